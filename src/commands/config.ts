import { Command, Flags } from '@oclif/core';
import { CONFIG_KEYS, configKeyHelp, loadRunConfig } from '../config/config.js';

export default class Config extends Command {
  static override summary = 'Show the effective run.cfg settings and where each value came from.';
  static override examples = ['<%= config.bin %> config', '<%= config.bin %> config --json', 'RUN_FORKS=10 <%= config.bin %> config'];
  static override flags = {
    json: Flags.boolean({ description: 'print JSON' }),
    config: Flags.string({ description: 'config file (default: $RUN_CONFIG, ./run.cfg, <install dir>/run.cfg)' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Config);
    const cfg = loadRunConfig({ configPath: flags.config });
    if (flags.json) {
      const out: Record<string, { value: unknown; source: string }> = {};
      for (const k of CONFIG_KEYS) out[k] = { value: cfg.get(k) ?? null, source: cfg.source(k) };
      this.log(JSON.stringify({ file: cfg.file ?? null, projectDir: cfg.projectDir, settings: out }, null, 2));
      return;
    }
    this.log(`config file: ${cfg.file ?? '(none: built-in defaults)'}`);
    this.log(`project dir: ${cfg.projectDir}`);
    const w = Math.max(...CONFIG_KEYS.map((k) => k.length));
    for (const k of CONFIG_KEYS) {
      const v = cfg.get(k);
      const shown = v === undefined ? '(unset)' : Array.isArray(v) ? v.join(',') || '(empty)' : String(v);
      this.log(`${k.padEnd(w)}  ${shown.padEnd(40)}  # ${cfg.source(k)} — ${configKeyHelp(k)}`);
    }
  }
}

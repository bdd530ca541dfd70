/** Connection variables → how to reach a host (ansible_* vars, ProxyJump forms, per-host host key settings). */
import { describe, expect, it } from 'vitest';
import { buildCommand, modeString, shq } from '../../src/transport/shell.js';
import { jumpFromSshArgs, parseJumpSpec, resolveConnection } from '../../src/transport/spec.js';
import { TransportError } from '../../src/transport/errors.js';

describe('resolveConnection', () => {
  it('reads the ansible_* connection variables', () => {
    const c = resolveConnection('node1', {
      ansible_host: '198.18.0.5', ansible_port: '2222', ansible_user: 'deploy', ansible_password: 'pw',
      ansible_ssh_private_key_file: '/k', ansible_become_password: 'sudo-pw', ansible_become_user: 'svc', ansible_become: 'yes',
    });
    expect(c).toEqual({
      kind: 'ssh', name: 'node1', becomeByDefault: true, become: { user: 'svc', password: 'sudo-pw' },
      target: { name: 'node1', address: '198.18.0.5', port: 2222, user: 'deploy', password: 'pw', keyFile: '/k' },
    });
    expect(resolveConnection('localhost', { ansible_connection: 'local' }).kind).toBe('local');
  });

  it('defaults: the inventory name, port 22, remote_user, private_key_file', () => {
    const c = resolveConnection('n2', {}, { defaults: { remoteUser: 'ops', privateKeyFile: '/id' } });
    expect(c.kind === 'ssh' && c.target).toEqual({ name: 'n2', address: 'n2', port: 22, user: 'ops', keyFile: '/id' });
  });

  it('rejects a bad port and an unsupported connection', () => {
    expect(() => resolveConnection('n', { ansible_port: '99999' })).toThrow(TransportError);
    expect(() => resolveConnection('n', { ansible_connection: 'winrm' })).toThrow(/not supported/);
  });

  it('jump hosts: ProxyJump, -J, ssh -W ProxyCommand, chains, inventory hosts', () => {
    expect(jumpFromSshArgs('-o ProxyJump=ops@deployer:2200')).toBe('ops@deployer:2200');
    expect(jumpFromSshArgs("-o 'ProxyJump deployer'")).toBe('deployer');
    expect(jumpFromSshArgs('-J deployer -o Foo=bar')).toBe('deployer');
    expect(jumpFromSshArgs('-o ProxyCommand="ssh -W %h:%p -q root@10.0.0.1"')).toBe('root@10.0.0.1');
    expect(jumpFromSshArgs('-o ProxyCommand="ssh -W %h:%p -q -p 2222 root@bastion"')).toBe('root@bastion:2222');
    expect(parseJumpSpec('a@h1:22,[fe80::1]:2200')).toEqual([{ user: 'a', host: 'h1', port: '22' }, { user: undefined, host: 'fe80::1', port: '2200' }]);
    const inv: Record<string, Record<string, unknown>> = { deployer: { ansible_host: '198.18.0.1', ansible_user: 'root', ansible_ssh_private_key_file: '/dk' } };
    const c = resolveConnection('node7', { ansible_ssh_common_args: '-o ProxyJump=deployer', ansible_user: 'x' }, { lookupHost: (n) => inv[n] });
    expect(c.kind === 'ssh' && c.target.jump).toEqual({ name: 'deployer', address: '198.18.0.1', port: 22, user: 'root', keyFile: '/dk' });
    const chain = resolveConnection('n', { ansible_ssh_jump_host: 'j1,j2:2222' });
    expect(chain.kind === 'ssh' && chain.target.jump?.address).toBe('j2');
    expect(chain.kind === 'ssh' && chain.target.jump?.jump?.address).toBe('j1');
    expect(() => resolveConnection('n', { ansible_ssh_jump_host: 'n' })).toThrow(/loop/);
  });

  it('per-host known_hosts and checking from ssh args (as Ansible inventories set them)', () => {
    const c = resolveConnection('n', { ansible_ssh_common_args: '-o UserKnownHostsFile=/tmp/kh -o StrictHostKeyChecking=yes' });
    expect(c.kind === 'ssh' && [c.target.knownHostsFile, c.target.hostKeyChecking]).toEqual(['/tmp/kh', 'strict']);
    const off = resolveConnection('n', { ansible_ssh_common_args: '-o UserKnownHostsFile=/dev/null -o StrictHostKeyChecking=no' });
    expect(off.kind === 'ssh' && [off.target.knownHostsFile, off.target.hostKeyChecking]).toEqual([undefined, 'off']);
    const hkc = resolveConnection('n', { ansible_host_key_checking: 'False' });
    expect(hkc.kind === 'ssh' && hkc.target.hostKeyChecking).toBe('off');
  });
});

describe('shell helpers', () => {
  it('quotes for POSIX sh', () => {
    expect(shq('plain-word_1.2/x')).toBe('plain-word_1.2/x');
    expect(shq("it's")).toBe(`'it'\\''s'`);
    expect(shq('')).toBe("''");
  });

  it('the sudo password is never part of the command line', () => {
    const b = buildCommand('id', { become: { password: 'S3cret!pw' }, env: { A: 'b' } });
    expect(b.line).not.toContain('S3cret');
    expect(b.line).toContain('sudo -H -S -p');
    expect(buildCommand('id', { become: true }).line).toContain('sudo -H -n -u root');
    expect(() => buildCommand('id', { env: { 'BAD NAME': 'x' } })).toThrow(/invalid environment variable/);
    expect(() => buildCommand('id', { become: { user: 'root; rm -rf /' } })).toThrow(/invalid become user/);
  });

  it('file modes', () => {
    expect(modeString(0o640)).toBe('640');
    expect(modeString('0755')).toBe('755');
    expect(modeString('04755')).toBe('4755');
    expect(modeString('u=rw,go=r')).toBe('u=rw,go=r');
    expect(() => modeString('rwx')).toThrow(/invalid file mode/);
  });
});

/** Connection reuse of the Kubernetes client: one keep-alive agent per TLS configuration, at most eight kept. */
import { Agent } from 'node:https';
import { KubeConfig } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { kubeClient } from './kube.js';

describe('kubeClient agents', () => {
  it('reuses one agent per TLS configuration and closes the idle connections of the one it drops', () => {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'c', server: 'https://127.0.0.1:6443', skipTLSVerify: false }],
      users: [{ name: 'u', token: 't' }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
    const made: { options: Record<string, unknown>; agent: Agent }[] = [];
    const target = kc as unknown as { createAgent(cluster: unknown, options: Record<string, unknown>): unknown };
    target.createAgent = (_cluster, options) => {
      const agent = new Agent({ keepAlive: true });
      made.push({ options, agent });
      return agent;
    };
    kubeClient(kc);
    const cluster = { server: 'https://127.0.0.1:6443' };
    const first = target.createAgent(cluster, { cert: 'c0' }) as Agent;
    expect(target.createAgent(cluster, { cert: 'c0' })).toBe(first);
    expect(made[0]!.options).toMatchObject({ keepAlive: true, maxSockets: 32 });
    let destroyed = 0;
    (first as unknown as { freeSockets: Record<string, unknown[]> }).freeSockets['127.0.0.1:6443:'] = [{ destroy: () => destroyed++ }];

    for (let i = 1; i < 8; i++) target.createAgent(cluster, { cert: `c${i}` });
    expect(made).toHaveLength(8);
    expect(destroyed).toBe(0);
    // a ninth configuration (a rotated client certificate): the oldest agent goes, its idle socket closed
    target.createAgent(cluster, { cert: 'c8' });
    expect(made).toHaveLength(9);
    expect(destroyed).toBe(1);
    expect((first as unknown as { keepAlive: boolean }).keepAlive).toBe(false);
    expect(target.createAgent(cluster, { cert: 'c1' })).toBe(made[1]!.agent);
    expect((made[1]!.agent as unknown as { keepAlive: boolean }).keepAlive).toBe(true);
    expect(target.createAgent(cluster, { cert: 'c0' })).not.toBe(first);
  });
});

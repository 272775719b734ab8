// sysbox-runc's calls wait for a daemon that is restarting (its run dir is there, its socket not
// yet), and fail at once when it was never started.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { serve } from '../src/daemon/server.js';
import { descriptor, schemas, SysboxMgrMethods, SysboxMgrService } from '../src/generated/sysboxmgr.js';
import { GrpcError, GrpcStatus, UnaryClient } from '../src/grpc-lite/client.js';

const status = SysboxMgrMethods.status;

describe('daemon restart wait', () => {
  it('a call made while the socket is missing succeeds once the daemon is back', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sbx-wait-'));
    const socket = path.join(dir, 'sysmgr.sock');
    const client = new UnaryClient(socket, schemas, 5_000, 5_000);
    let server: Awaited<ReturnType<typeof serve>> | undefined;
    const late = new Promise<void>((resolve) => setTimeout(() => {
      void serve({ socket, descriptor, service: SysboxMgrService, onError: () => {}, handlers: { status: () => ({ version: 'late', pid: 1 }) } })
        .then((s) => { server = s; resolve(); });
    }, 400));
    try {
      const started = Date.now();
      const reply = await client.call(status, {});
      assert.equal(reply.version, 'late');
      assert.ok(Date.now() - started >= 350, 'it waited for the server');
    } finally {
      await late;
      client.close();
      server?.forceShutdown();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('gives up after the wait, saying how long it waited', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sbx-wait-'));
    const client = new UnaryClient(path.join(dir, 'sysmgr.sock'), schemas, 5_000, 300);
    try {
      const started = Date.now();
      await assert.rejects(client.call(status, {}), (e: unknown) => e instanceof GrpcError && e.code === GrpcStatus.UNAVAILABLE && /waited 0\.3 s/.test(e.message));
      assert.ok(Date.now() - started >= 300);
    } finally {
      client.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('fails at once when the run dir does not exist (never started)', async () => {
    const client = new UnaryClient('/nonexistent-sysbox-dir/sysmgr.sock', schemas, 5_000, 5_000);
    const started = Date.now();
    await assert.rejects(client.call(status, {}), (e: unknown) => e instanceof GrpcError && e.code === GrpcStatus.UNAVAILABLE && !/waited/.test(e.message));
    assert.ok(Date.now() - started < 1_000);
    client.close();
  });

  it('a server that dies while handling the call: failed at once, as lost mid-call (it may have acted)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sbx-wait-'));
    const socket = path.join(dir, 'sysmgr.sock');
    // Reads the request, then drops the connection without an answer, like a daemon killed mid-handler.
    const server = net.createServer((c) => c.once('data', () => setTimeout(() => c.destroy(), 50)));
    await new Promise<void>((r) => server.listen(socket, r));
    const client = new UnaryClient(socket, schemas, 5_000, 5_000);
    try {
      const started = Date.now();
      await assert.rejects(client.call(status, {}), (e: unknown) => e instanceof GrpcError && e.code === GrpcStatus.UNAVAILABLE && e.lostMidCall);
      assert.ok(Date.now() - started < 1_000, 'not sent again: the request may have taken effect');
      // Sent again by the caller, it goes over a new connection (to the server, restarted, here the same).
      let accepted = 0;
      server.on('connection', () => { accepted++; });
      await assert.rejects(client.call(status, {}), (e: unknown) => e instanceof GrpcError && e.lostMidCall);
      assert.equal(accepted, 1, 'the broken session was not reused');
    } finally {
      client.close();
      server.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a daemon that was never reached is not reported as lost mid-call', async () => {
    const client = new UnaryClient('/nonexistent-sysbox-dir/sysmgr.sock', schemas, 5_000, 5_000);
    await assert.rejects(client.call(status, {}), (e: unknown) => e instanceof GrpcError && !e.lostMidCall);
    client.close();
  });
});

import assert from 'node:assert/strict';
import v8 from 'node:v8';
import { describe, it } from 'node:test';
import { releaseHeap, releaseMemoryWhenQuiet, type MemoryReleaseOptions, type ReleaseResult } from '../src/daemon/memory-release.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A releaser whose collect/trim only record what was called, in order. */
function recorded(extra: Partial<MemoryReleaseOptions> = {}): { calls: string[]; results: ReleaseResult[]; r: ReturnType<typeof releaseMemoryWhenQuiet> } {
  const calls: string[] = [];
  const results: ReleaseResult[] = [];
  const r = releaseMemoryWhenQuiet({
    quietMs: 40,
    maxDelayMs: 1000,
    minGrowth: 0,
    collect: () => calls.push('collect'),
    trim: () => calls.push('trim'),
    onReleased: (x) => results.push(x),
    ...extra,
  });
  return { calls, results, r };
}

describe('releasing memory once a daemon is quiet after removals', () => {
  it('collects, then trims, once, quietMs after a burst of removals', async () => {
    const { calls, results, r } = recorded();
    r.request();
    r.request();
    await sleep(10);
    r.request();
    assert.deepEqual(calls, [], 'nothing before the daemon has been quiet');
    await sleep(120);
    assert.deepEqual(calls, ['collect', 'trim']);
    assert.equal(results.length, 1);
    assert.ok(results[0]!.rssBeforeKiB > 0 && results[0]!.rssAfterKiB > 0);
  });

  it('waits while requests keep coming', async () => {
    const { calls, r } = recorded();
    r.request();
    for (let i = 0; i < 5; i++) {
      await sleep(20);
      r.activity();
    }
    assert.deepEqual(calls, [], 'each activity pushes the release back');
    await sleep(100);
    assert.deepEqual(calls, ['collect', 'trim']);
  });

  it('releases maxDelayMs after the first removal even if never quiet', async () => {
    const { calls, r } = recorded({ maxDelayMs: 100 });
    r.request();
    for (let i = 0; i < 12; i++) {
      await sleep(20);
      r.activity();
    }
    assert.deepEqual(calls, ['collect', 'trim'], 'released at ~100 ms although activity came every 20 ms');
  });

  it('does nothing for activity alone, nor after stop', async () => {
    const { calls, r } = recorded();
    r.activity();
    await sleep(80);
    assert.deepEqual(calls, []);
    r.request();
    r.stop();
    await sleep(80);
    assert.deepEqual(calls, []);
  });

  it('asks for no release until the RSS has grown by minGrowth over what the last release left', async () => {
    let rss = 100_000;
    const { calls, results, r } = recorded({ minGrowth: 0.05, rssKiB: () => rss });
    rss = 104_000;
    r.request();
    await sleep(80);
    assert.deepEqual(calls, [], '4 % over the start: no release');
    rss = 106_000;
    r.request();
    rss = 101_000;
    await sleep(80);
    assert.deepEqual(calls, ['collect', 'trim'], '6 % over: released');
    assert.equal(results[0]!.rssAfterKiB, 101_000);
    rss = 105_000;
    r.request();
    await sleep(80);
    assert.equal(calls.length, 2, '4 % over what the release left: none');
    rss = 107_000;
    r.request();
    await sleep(80);
    assert.equal(calls.length, 4, '6 % over it: released again');
  });

  it('asks for a release after everyRemovals removals whatever the RSS', async () => {
    const { calls, r } = recorded({ minGrowth: 0.05, everyRemovals: 3, rssKiB: () => 100_000 });
    r.request();
    r.request();
    await sleep(80);
    assert.deepEqual(calls, [], 'two removals, RSS flat: none');
    r.request();
    await sleep(80);
    assert.deepEqual(calls, ['collect', 'trim'], 'the third: released');
    r.request();
    await sleep(80);
    assert.equal(calls.length, 2, 'the count starts again after a release');
  });

  it('runs beforeTrim between the GC and the trim, and one more round for a removal meanwhile', async () => {
    let again: (() => void) | undefined;
    const { calls, r } = recorded({
      beforeTrim: async () => {
        calls.push('workers');
        again?.();
        again = undefined;
        await sleep(5);
      },
    });
    again = () => r.request();
    r.request();
    await sleep(200);
    assert.deepEqual(calls, ['collect', 'workers', 'trim', 'collect', 'workers', 'trim']);
  });

  it('releaseHeap collects garbage the heap held', () => {
    let junk: object[] | undefined = Array.from({ length: 200_000 }, (_, i) => ({ i }));
    const before = process.memoryUsage().heapUsed;
    junk = undefined;
    releaseHeap();
    assert.equal(junk, undefined);
    assert.ok(process.memoryUsage().heapUsed < before - 4 * 1024 * 1024, `heap ${before} -> ${process.memoryUsage().heapUsed}`);
  });

  it('releaseHeap shrinks the young generation a burst grew (a plain full GC leaves it at its peak)', () => {
    const youngKiB = (): number => Math.round((v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.physical_space_size ?? 0) / 1024);
    // Short-lived objects of which some survive a scavenge or two: V8 grows the young generation.
    let keep: object[] = [];
    for (let i = 0; i < 3_000_000; i++) {
      keep.push({ i, s: `x${i}` });
      if (keep.length > 50_000) keep = [];
    }
    keep = [];
    const grown = youngKiB();
    assert.ok(grown >= 8192, `the burst grew the young generation to ${grown} KiB (the test needs >= 8 MiB)`);
    releaseHeap();
    assert.ok(youngKiB() <= 2048, `young generation ${grown} -> ${youngKiB()} KiB`);
  });
});

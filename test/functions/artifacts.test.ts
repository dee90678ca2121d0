import { randomBytes } from 'node:crypto';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isOffloadError } from '../../core/errors';
import { getObjectsBytes, weightFileViews } from '../../functions/commons/artifacts';
import { createS3Client } from '../../functions/commons/aws';
import { startS3, useStandInEnv, type StandIn } from '../../local/stand-ins';

/** getObjectsBytes against s3rver with a small part size, so that every object shape is exercised. */
const BUCKET = 'artifacts';
const PART = 1000;
const SIZES = { empty: 0, one: 1, underPart: PART - 1, onePart: PART, manyParts: 3 * PART + 5, large: 50 * PART + 17 };

let stand: StandIn;
let restoreEnv: () => void;
let s3: S3Client;
const bodies = new Map<string, Uint8Array>();

beforeAll(async () => {
  stand = await startS3({ buckets: [BUCKET] });
  restoreEnv = useStandInEnv({ s3: stand.endpoint });
  s3 = createS3Client();
  for (const [name, size] of Object.entries(SIZES)) {
    const body = new Uint8Array(randomBytes(size));
    bodies.set(name, body);
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `w/${name}.bin`, Body: body }));
  }
}, 60_000);

afterAll(async () => {
  s3?.destroy();
  restoreEnv?.();
  await stand?.close();
});

describe('getObjectsBytes: parallel ranged GETs into exact-size buffers', () => {
  it('returns every object byte for byte, in the order asked, whatever its size against the part size', async () => {
    // Act
    const names = Object.keys(SIZES);
    const got = await getObjectsBytes(s3, BUCKET, names.map((n) => ({ key: `w/${n}.bin` })), { partBytes: PART, concurrency: 3 });
    // Assess
    expect(got.map((b) => b.byteLength)).toEqual(Object.values(SIZES));
    names.forEach((n, i) => expect(Buffer.from(got[i]!).equals(Buffer.from(bodies.get(n)!)), n).toBe(true));
    // each result owns its buffer exactly (tfjs takes the ArrayBuffers as they are)
    for (const b of got) expect(b.buffer.byteLength).toBe(b.byteLength);
  });

  it('works with one request at a time and with the default part size', async () => {
    const [a] = await getObjectsBytes(s3, BUCKET, [{ key: 'w/large.bin' }], { partBytes: PART, concurrency: 1 });
    const [b] = await getObjectsBytes(s3, BUCKET, [{ key: 'w/large.bin' }]);
    expect(Buffer.from(a!).equals(Buffer.from(bodies.get('large')!))).toBe(true);
    expect(Buffer.from(b!).equals(Buffer.from(bodies.get('large')!))).toBe(true);
  });

  it('streams objects given a view of their size into it: several objects land in one buffer', async () => {
    // Prepare: one buffer tiled by three views, the middle one of the wrong size
    const shared = new ArrayBuffer(SIZES.manyParts + SIZES.large + SIZES.one);
    const views = [
      new Uint8Array(shared, 0, SIZES.manyParts),
      new Uint8Array(shared, SIZES.manyParts, SIZES.large),
      new Uint8Array(shared, SIZES.manyParts + SIZES.large, SIZES.one),
    ];
    const wrong = new Uint8Array(shared, SIZES.manyParts, SIZES.onePart);

    // Act
    const got = await getObjectsBytes(
      s3,
      BUCKET,
      [
        { key: 'w/manyParts.bin', into: views[0] },
        { key: 'w/large.bin', into: views[1] },
        { key: 'w/one.bin', into: views[2] },
      ],
      { partBytes: PART, concurrency: 4 },
    );
    const [mismatch] = await getObjectsBytes(s3, BUCKET, [{ key: 'w/onePart.bin', into: new Uint8Array(wrong.byteLength + 1) }], { partBytes: PART });

    // Assess: the given views, filled byte for byte; an object of another size gets its own buffer
    got.forEach((b, i) => expect(b).toBe(views[i]));
    expect(Buffer.from(new Uint8Array(shared)).equals(Buffer.concat([bodies.get('manyParts')!, bodies.get('large')!, bodies.get('one')!]))).toBe(true);
    expect(mismatch!.byteLength).toBe(SIZES.onePart);
    expect(Buffer.from(mismatch!).equals(Buffer.from(bodies.get('onePart')!))).toBe(true);
  });

  it('reports each part as it is in place: every byte of every object once, with the buffer it landed in', async () => {
    const names = Object.keys(SIZES);
    const seen = names.map(() => [] as [number, number][]);
    const targets = names.map(() => new Set<Uint8Array>());
    let checked = 0;
    const got = await getObjectsBytes(s3, BUCKET, names.map((n) => ({ key: `w/${n}.bin` })), {
      partBytes: PART,
      concurrency: 4,
      onBytes: (i, start, end, target) => {
        seen[i]!.push([start, end]);
        targets[i]!.add(target);
        // the reported bytes are in place when reported
        expect(Buffer.from(target.subarray(start, end)).equals(Buffer.from(bodies.get(names[i]!)!.subarray(start, end)))).toBe(true);
        if (end > start) checked++;
      },
    });
    names.forEach((n, i) => {
      const ranges = seen[i]!.sort((a, b) => a[0] - b[0]);
      let at = 0;
      for (const [start, end] of ranges) {
        expect(start, n).toBe(at);
        at = end;
      }
      expect(at, n).toBe(SIZES[n as keyof typeof SIZES]);
      if (at > 0) expect([...targets[i]!], n).toEqual([got[i]]);
    });
    // one report per part: 1 + 1 + 1 + 4 + 51 (the empty object has no bytes to report)
    expect(checked).toBe(58);
  });

  it('names a missing object as unavailable (503), with the key only in the detail', async () => {
    const err = await getObjectsBytes(s3, BUCKET, [{ key: 'w/one.bin' }, { key: 'w/nope.bin', what: 'segment 7' }], { partBytes: PART }).catch((e: unknown) => e);
    expect(isOffloadError(err)).toBe(true);
    expect(err).toMatchObject({ code: 'unavailable', message: 'segment 7 missing from the artifact store' });
    expect((err as { detail?: string }).detail).toBe(`s3://${BUCKET}/w/nope.bin`);
  });

  it('rejects a part size or concurrency it cannot use', async () => {
    await expect(getObjectsBytes(s3, BUCKET, [], { partBytes: 0 })).rejects.toThrow(/partBytes must be a positive integer/);
    await expect(getObjectsBytes(s3, BUCKET, [], { concurrency: 1.5 })).rejects.toThrow(/concurrency must be a positive integer/);
  });
});

describe('weightFileViews: where each weight file of a model.json lands', () => {
  const spec = (shape: number[], dtype = 'float32') => ({ name: 'w', shape, dtype });

  it('tiles one buffer with a view per file when every group is one file of a size its specs fix', () => {
    const views = weightFileViews([
      { paths: ['segments/0-2.bin'], weights: [spec([2, 3]), spec([3], 'int32')] },
      { paths: ['segments/2-4.bin'], weights: [{ ...spec([4]), quantization: { dtype: 'uint8' } }] },
    ]);
    expect([...(views?.keys() ?? [])]).toEqual(['segments/0-2.bin', 'segments/2-4.bin']);
    const [a, b] = [...views!.values()];
    expect([a!.byteOffset, a!.byteLength, b!.byteOffset, b!.byteLength]).toEqual([0, 36, 36, 4]);
    expect(a!.buffer).toBe(b!.buffer);
    expect(a!.buffer.byteLength).toBe(40);
  });

  it('leaves other layouts alone: converter shards, string weights, a single file', () => {
    expect(weightFileViews([{ paths: ['group1-shard1of2.bin', 'group1-shard2of2.bin'], weights: [spec([2])] }, { paths: ['x.bin'], weights: [spec([1])] }])).toBeUndefined();
    expect(weightFileViews([{ paths: ['a.bin'], weights: [spec([2], 'string')] }, { paths: ['b.bin'], weights: [spec([1])] }])).toBeUndefined();
    expect(weightFileViews([{ paths: ['a.bin'], weights: [spec([2])] }])).toBeUndefined();
  });
});

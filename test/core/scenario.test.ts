import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../core/errors';
import { DEFAULT_LIMITS, parseScenario, parseScenarios } from '../../core/scenario';
import { handScenario } from './hand-scenario';

type Editable = ReturnType<typeof handScenario> & Record<string, unknown>;

/** Applies `edit` to a valid scenario and returns the ValidationError message (or fails). */
function errorOf(edit: (s: Editable) => void): string {
  const s = handScenario() as Editable;
  edit(s);
  try {
    parseScenario(s);
  } catch (e) {
    expect(e).toBeInstanceOf(ValidationError);
    return (e as ValidationError).message;
  }
  throw new Error('expected a ValidationError');
}

/** Sets a value at a dotted path (`a.b[2].c` written as ['a','b',2,'c']). */
function set(s: Editable, path: (string | number)[], value: unknown): void {
  let obj = s as unknown as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) obj = obj[key] as Record<string | number, unknown>;
  const last = path[path.length - 1]!;
  if (value === undefined) delete obj[last];
  else obj[last] = value;
}

describe('scenario: valid input and defaults', () => {
  it('parses the docs/cost-model.md §7 example shape and fills the optional groups', () => {
    const s = parseScenario(handScenario());
    expect(s.limits).toEqual(DEFAULT_LIMITS);
    expect(s.limits).toEqual({ payloadBytes: 6_291_456, base64: true, staging: false });
    expect(s.constraints).toEqual({ maxLatencyMs: null, maxEnergyJ: null, maxCostUSD: null });
    expect(s.battery).toBeUndefined();
  });

  it('fills a partial limits group field by field, defaults encoding to float32', () => {
    const input = handScenario() as Editable;
    delete input.encoding;
    input.limits = { staging: true };
    const s = parseScenario(input);
    expect(s.limits).toEqual({ payloadBytes: 6_291_456, base64: true, staging: true });
    expect(s.encoding.dtype).toBe('float32');
  });

  it('accepts explicit null constraints and a battery', () => {
    const input = handScenario() as Editable;
    input.constraints = { maxLatencyMs: null, maxEnergyJ: null, maxCostUSD: 0.001 };
    input.battery = { level: 0.5 };
    expect(parseScenario(input).constraints.maxCostUSD).toBe(0.001);
  });
});

describe('scenario: every bad input names its field', () => {
  const cases: [string, (string | number)[], unknown, string][] = [
    ['zero uplink', ['network', 'uplinkMbps'], 0, 'network.uplinkMbps: must be > 0'],
    ['negative downlink', ['network', 'downlinkMbps'], -3, 'network.downlinkMbps: must be > 0'],
    ['negative rtt', ['network', 'rttMs'], -1, 'network.rttMs: must be >= 0'],
    ['infinite rtt', ['network', 'rttMs'], Infinity, 'network.rttMs: must be a finite number'],
    ['NaN computeW', ['device', 'computeW'], Number.NaN, 'device.computeW: must be a finite number'],
    ['string number', ['device', 'idleW'], '0.5', 'device.idleW: must be a number, got the string "0.5"'],
    ['missing radio', ['device', 'radio'], undefined, 'device.radio: required'],
    ['negative beta', ['device', 'radio', 'beta'], -1, 'device.radio.beta: must be >= 0'],
    ['negative layer time', ['model', 'layers', 1, 'deviceMs'], -0.1, 'model.layers[1].deviceMs: must be >= 0'],
    ['missing cloudMs', ['model', 'layers', 2, 'cloudMs'], undefined, 'model.layers[2].cloudMs: required'],
    ['fractional bytes', ['model', 'layers', 0, 'weightBytes'], 1.5, 'model.layers[0].weightBytes: must be an integer'],
    ['huge bytes', ['model', 'inputBytes'], 2 ** 60, 'model.inputBytes: must be <= 2^53-1'],
    ['no layers', ['model', 'layers'], [], 'model.layers: must have at least one layer'],
    ['missing layers', ['model', 'layers'], undefined, 'model.layers: required'],
    ['missing candidates', ['model', 'candidates'], undefined, 'model.candidates: required'],
    ['layers not a list', ['model', 'layers'], {}, 'model.layers: must be an array, got object'],
    ['empty model name', ['model', 'name'], '', 'model.name: must not be empty'],
    ['cut out of range', ['model', 'candidates', 2, 'cut'], 3, 'model.candidates[2].cut: out of range 0..2'],
    ['negative cut', ['model', 'candidates', 1, 'cut'], -1, 'model.candidates[1].cut: must be >= 0'],
    ['fractional cut', ['model', 'candidates', 1, 'cut'], 1.5, 'model.candidates[1].cut: must be an integer'],
    ['duplicate cut', ['model', 'candidates', 2, 'cut'], 1, 'model.candidates[2].cut: duplicate cut 1 (also model.candidates[1])'],
    ['zero memory', ['cloud', 'memoryMB'], 0, 'cloud.memoryMB: must be > 0'],
    ['negative price', ['cloud', 'gbSecondUSD'], -1e-5, 'cloud.gbSecondUSD: must be >= 0'],
    ['fractional inFlight', ['cloud', 'functions', '1', 'inFlight'], 0.5, 'cloud.functions.1.inFlight: must be an integer'],
    ['negative limit', ['cloud', 'functions', '1', 'limit'], -1, 'cloud.functions.1.limit: must be >= 0'],
    ['fractional limit', ['cloud', 'functions', '0', 'limit'], 2.5, 'cloud.functions.0.limit: must be an integer'],
    ['negative idleWarm', ['cloud', 'functions', '0', 'idleWarm'], -1, 'cloud.functions.0.idleWarm: must be >= 0'],
    ['negative coldStartMs', ['cloud', 'functions', '2', 'coldStartMs'], -5, 'cloud.functions.2.coldStartMs: must be >= 0'],
    ['empty function name', ['cloud', 'functions', '2', 'name'], '', 'cloud.functions.2.name: must not be empty'],
    ['function for a non-candidate', ['cloud', 'functions', '7'], { idleWarm: 0, inFlight: 0, limit: 1 }, 'cloud.functions.7: cut 7 is not a candidate'],
    ['function for device-only', ['cloud', 'functions', '3'], { idleWarm: 0, inFlight: 0, limit: 1 }, 'cloud.functions.3: cut 3 is not a candidate'],
    ['function key not a number', ['cloud', 'functions', 'x1'], { idleWarm: 0, inFlight: 0, limit: 1 }, 'cloud.functions.x1: not a cut number'],
    ['function key with a leading zero', ['cloud', 'functions', '01'], { idleWarm: 0, inFlight: 0, limit: 1 }, 'cloud.functions.01: not a cut number'],
    ['unknown dtype', ['encoding', 'dtype'], 'bfloat16', 'encoding.dtype: unknown dtype "bfloat16"'],
    ['unknown objective', ['objective'], 'speed', 'objective: unknown objective "speed" (one of latency, energy, cost)'],
    ['missing objective', ['objective'], undefined, 'objective: required'],
    ['negative constraint', ['constraints'], { maxLatencyMs: -1 }, 'constraints.maxLatencyMs: must be >= 0'],
    ['infinite constraint', ['constraints'], { maxCostUSD: Infinity }, 'constraints.maxCostUSD: must be a finite number'],
    ['zero payload limit', ['limits'], { payloadBytes: 0 }, 'limits.payloadBytes: must be > 0'],
    ['non-boolean staging', ['limits'], { staging: 'yes' }, 'limits.staging: must be true or false'],
    ['battery above 1', ['battery'], { level: 1.2 }, 'battery.level: must be in 0..1'],
    ['battery below 0', ['battery'], { level: -0.1 }, 'battery.level: must be in 0..1'],
    ['battery NaN', ['battery'], { level: Number.NaN }, 'battery.level: must be a finite number'],
    ['unknown field', ['network', 'uplinkMbs'], 5, 'network: unknown field "uplinkMbs"'],
    ['unknown top-level field', ['networks'], {}, '(input): unknown field "networks"'],
    ['missing group', ['cloud'], undefined, 'cloud: required'],
    ['group of the wrong type', ['network'], 'wifi', 'network: must be an object, got the string "wifi"'],
  ];

  it.each(cases)('%s', (_name, path, value, message) => {
    expect(errorOf((s) => set(s, path, value))).toContain(message);
    // the message starts with the field path
    expect(errorOf((s) => set(s, path, value)).startsWith(message.split(':')[0]!)).toBe(true);
  });

  it('rejects battery together with maxEnergyJ', () => {
    expect(
      errorOf((s) => {
        s.battery = { level: 0.5 };
        s.constraints = { maxEnergyJ: 1 };
      }),
    ).toMatch(/^battery: give battery or constraints.maxEnergyJ, not both/);
  });

  it('rejects a JSON number that overflows to Infinity (1e999)', () => {
    const text = JSON.stringify(handScenario()).replace('"rttMs":50', '"rttMs":1e999');
    expect(() => parseScenario(JSON.parse(text))).toThrow(/^network\.rttMs: must be a finite number$/);
  });

  it('rejects a non-object scenario', () => {
    expect(() => parseScenario(42)).toThrow(/^\(input\): must be an object, got number/);
    expect(() => parseScenario(null)).toThrow(/must be an object, got null/);
  });

  it('carries the field on the error for the HTTP edge', () => {
    try {
      parseScenario({ ...handScenario(), network: { uplinkMbps: 0, downlinkMbps: 1, rttMs: 1 } });
      expect.unreachable();
    } catch (e) {
      expect((e as ValidationError).field).toBe('network.uplinkMbps');
      expect((e as ValidationError).status).toBe(400);
    }
  });
});

describe('scenario arrays', () => {
  it('parses an array in order and a single object as one', () => {
    const a = handScenario();
    const b = { ...handScenario(), objective: 'cost' as const };
    const many = parseScenarios([a, b]);
    expect(many.many).toBe(true);
    expect(many.scenarios.map((s) => s.objective)).toEqual(['latency', 'cost']);
    expect(parseScenarios(a)).toMatchObject({ many: false });
  });

  it('prefixes errors with the element index', () => {
    const bad = { ...handScenario(), network: { uplinkMbps: 0, downlinkMbps: 1, rttMs: 1 } };
    expect(() => parseScenarios([handScenario(), bad])).toThrow(/^\[1\]\.network\.uplinkMbps: must be > 0$/);
  });
});

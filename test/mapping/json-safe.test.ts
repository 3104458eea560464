import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CIRCULAR, TRUNCATED, UNSERIALIZABLE, isPlainJson, toJsonSafe, toJsonSafeProperties } from '../../src/mapping/json-safe.ts';

/** The output must survive a JSON round trip unchanged. */
function assertRoundTrips(safe: unknown): void {
  const json = JSON.stringify(safe);
  if (safe === undefined) {
    assert.equal(json, undefined);
    return;
  }
  assert.equal(typeof json, 'string');
  assert.deepEqual(JSON.parse(json), safe);
}

function throwingProxy(): object {
  const boom = (): never => {
    throw new Error('trap');
  };
  return new Proxy(
    {},
    {
      get: boom,
      set: boom,
      has: boom,
      ownKeys: boom,
      getOwnPropertyDescriptor: boom,
      getPrototypeOf: boom,
      setPrototypeOf: boom,
      isExtensible: boom,
      preventExtensions: boom,
      defineProperty: boom,
      deleteProperty: boom,
      apply: boom,
      construct: boom,
    },
  );
}

test('strings, booleans, null and finite numbers pass through unchanged', () => {
  for (const v of ['', 'abc', 'ünïcødé 🎉', true, false, null, 0, 1, -1.5, Number.MAX_SAFE_INTEGER, 1e300]) {
    assert.equal(toJsonSafe(v), v);
    assertRoundTrips(toJsonSafe(v));
  }
});

test('NaN and infinities become their names; -0 becomes 0', () => {
  assert.equal(toJsonSafe(NaN), 'NaN');
  assert.equal(toJsonSafe(Infinity), 'Infinity');
  assert.equal(toJsonSafe(-Infinity), '-Infinity');
  assert.ok(Object.is(toJsonSafe(-0), 0));
  assert.deepEqual(toJsonSafe([NaN, Infinity, -Infinity, -0]), ['NaN', 'Infinity', '-Infinity', 0]);
  const props = toJsonSafeProperties({ a: NaN, b: -Infinity, z: -0 });
  assert.deepEqual(props, { a: 'NaN', b: '-Infinity', z: 0 });
  assert.ok(Object.is(props.z, 0));
  assertRoundTrips(props);
});

test('bigint becomes its decimal string, also boxed', () => {
  assert.equal(toJsonSafe(123n), '123');
  assert.equal(toJsonSafe(-(2n ** 80n)), '-1208925819614629174706176');
  assert.deepEqual(toJsonSafeProperties({ n: 9007199254740993n }), { n: '9007199254740993' });
  assert.equal(toJsonSafe(Object(5n)), '5');
});

test('boxed primitives become their primitive, as in JSON.stringify', () => {
  assert.deepEqual(toJsonSafe([Object('s'), Object(2), Object(false)]), ['s', 2, false]);
});

test('undefined, functions and symbols are omitted in objects and null in arrays', () => {
  const input = { u: undefined, f: () => 1, s: Symbol('x'), keep: 1 };
  assert.deepEqual(toJsonSafe(input), { keep: 1 });
  assert.deepEqual(toJsonSafeProperties(input), { keep: 1 });
  assert.deepEqual(toJsonSafe([undefined, () => 1, Symbol('x'), 2]), [null, null, null, 2]);
  // eslint-disable-next-line no-sparse-arrays
  assert.deepEqual(toJsonSafe([1, , 3]), [1, null, 3]);
  assert.equal(toJsonSafe(undefined), undefined);
  assert.equal(toJsonSafe(Symbol('top')), undefined);
  assert.equal(
    toJsonSafe(function named() {}),
    undefined,
  );
});

test('Uint8Array, other views, ArrayBuffer and Buffer become base64', () => {
  const bytes = new Uint8Array([104, 105, 255]);
  assert.equal(toJsonSafe(bytes), 'aGn/');
  assert.equal(toJsonSafe(Buffer.from('hello')), 'aGVsbG8=');
  assert.equal(toJsonSafe(bytes.buffer), 'aGn/');
  assert.equal(toJsonSafe(new DataView(bytes.buffer, 1, 2)), 'af8=');
  // A view over part of a larger buffer encodes only its own bytes.
  assert.equal(toJsonSafe(new Uint8Array(bytes.buffer, 1, 1)), 'aQ==');
  assert.equal(toJsonSafe(new Uint16Array([1])), 'AQA=');
  assert.equal(toJsonSafe(new Uint8Array(0)), '');
  assert.deepEqual(toJsonSafeProperties({ buf: Buffer.from([1, 2, 3]) }), { buf: 'AQID' });
});

test('Date becomes an ISO string; an invalid Date becomes null', () => {
  const d = new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 6));
  assert.equal(toJsonSafe(d), '2024-01-02T03:04:05.006Z');
  assert.equal(toJsonSafe(new Date(NaN)), null);
  assert.deepEqual(toJsonSafe({ at: d, bad: new Date('nope') }), { at: '2024-01-02T03:04:05.006Z', bad: null });
});

test('arrays, plain objects and null-prototype objects map recursively', () => {
  const bare = Object.create(null) as Record<string, unknown>;
  bare.x = [1, { y: 'z' }];
  const input = { a: [1, 'two', [3, [4]]], o: { p: { q: true } }, bare };
  const safe = toJsonSafe(input);
  assert.deepEqual(safe, { a: [1, 'two', [3, [4]]], o: { p: { q: true } }, bare: { x: [1, { y: 'z' }] } });
  assertRoundTrips(safe);
});

test('Map becomes an object with stringified keys; Set becomes an array', () => {
  const m = new Map<unknown, unknown>([
    ['a', 1],
    [2, { b: 2n }],
    [true, undefined],
  ]);
  assert.deepEqual(toJsonSafe(m), { a: 1, '2': { b: '2' } });
  assert.deepEqual(toJsonSafe(new Set([1, 'x', undefined])), [1, 'x', null]);
});

test('toJSON is called and its result made safe, once', () => {
  const obj = {
    toJSON: () => ({ big: 1n, nested: { toJSON: () => 'inner' } }),
  };
  assert.deepEqual(toJsonSafe(obj), { big: '1', nested: 'inner' });
  class Money {
    amount = 5;
    toJSON(): string {
      return `${this.amount} EUR`;
    }
  }
  assert.deepEqual(toJsonSafeProperties({ price: new Money() }), { price: '5 EUR' });
  // A toJSON that returns itself falls back to the object's own properties.
  const selfish = {
    v: 1,
    toJSON(): unknown {
      return this;
    },
  };
  assert.deepEqual(toJsonSafe(selfish), { v: 1 });
});

test('a throwing toJSON becomes [unserializable]', () => {
  const bad = {
    toJSON(): never {
      throw new Error('nope');
    },
  };
  assert.equal(toJsonSafe(bad), UNSERIALIZABLE);
  assert.deepEqual(toJsonSafeProperties({ bad, ok: 1 }), { bad: UNSERIALIZABLE, ok: 1 });
  assert.deepEqual(toJsonSafe([bad]), [UNSERIALIZABLE]);
});

test('Error becomes { name, message, stack } plus enumerable extras', () => {
  const err = new TypeError('boom');
  const safe = toJsonSafe(err) as Record<string, unknown>;
  assert.equal(safe.name, 'TypeError');
  assert.equal(safe.message, 'boom');
  assert.equal(safe.stack, err.stack);
  assert.deepEqual(Object.keys(safe).sort(), ['message', 'name', 'stack']);

  const coded = Object.assign(new Error('disk'), { code: 'ENOSPC', errno: -28 });
  assert.deepEqual(toJsonSafe(coded), { name: 'Error', message: 'disk', stack: coded.stack, code: 'ENOSPC', errno: -28 });

  const noStack = new Error('x');
  Object.defineProperty(noStack, 'stack', { value: undefined });
  assert.deepEqual(toJsonSafe(noStack), { name: 'Error', message: 'x' });
  assertRoundTrips(toJsonSafe(err));
});

test('other class instances become their own enumerable properties', () => {
  class Point {
    x = 1;
    y = 2;
    #secret = 'hidden';
    get sum(): number {
      return this.x + this.y;
    }
    reveal(): string {
      return this.#secret;
    }
  }
  const p = new Point();
  assert.equal(p.reveal(), 'hidden');
  assert.deepEqual(toJsonSafe(p), { x: 1, y: 2 });
  assert.deepEqual(toJsonSafe(/re/g), {});
});

test('a cycle becomes [Circular] at the repeated reference', () => {
  const a: Record<string, unknown> = { name: 'a' };
  const b: Record<string, unknown> = { name: 'b', parent: a };
  a.child = b;
  a.self = a;
  const list: unknown[] = [1];
  list.push(list);
  a.list = list;
  const safe = toJsonSafe(a);
  assert.deepEqual(safe, {
    name: 'a',
    child: { name: 'b', parent: CIRCULAR },
    self: CIRCULAR,
    list: [1, CIRCULAR],
  });
  assertRoundTrips(safe);

  const attrs: Record<string, unknown> = { k: 1 };
  attrs.me = attrs;
  attrs.deep = { back: attrs };
  assert.deepEqual(toJsonSafeProperties(attrs), { k: 1, me: CIRCULAR, deep: { back: CIRCULAR } });

  const m = new Map<string, unknown>();
  m.set('m', m);
  assert.deepEqual(toJsonSafe(m), { m: CIRCULAR });
});

test('a shared, non-cyclic reference is copied each time, not marked circular', () => {
  const shared = { v: 1 };
  const input = { a: shared, b: shared, list: [shared, shared], nested: { again: shared } };
  const safe = toJsonSafe(input);
  assert.deepEqual(safe, { a: { v: 1 }, b: { v: 1 }, list: [{ v: 1 }, { v: 1 }], nested: { again: { v: 1 } } });
  assert.deepEqual(toJsonSafeProperties({ x: shared, y: shared }), { x: { v: 1 }, y: { v: 1 } });
});

test('nesting beyond maxDepth becomes [Truncated]; 10 000 levels do not overflow the stack', () => {
  type Node = { level: number; next?: Node };
  const root: Node = { level: 0 };
  let tail = root;
  for (let i = 1; i < 10_000; i++) {
    tail.next = { level: i };
    tail = tail.next;
  }
  const check = (safe: unknown, levels: number): void => {
    let cur = safe as Record<string, unknown>;
    for (let i = 0; i < levels; i++) {
      assert.equal(cur.level, i);
      cur = cur.next as Record<string, unknown>;
    }
    assert.equal(cur, TRUNCATED);
  };
  check(toJsonSafe(root), 10);
  check(toJsonSafe(root, { maxDepth: 3 }), 3);
  // Huge limits are capped, so hostile depth still cannot exhaust the stack.
  check(toJsonSafe(root, { maxDepth: Infinity }), 100);
  assertRoundTrips(toJsonSafe(root));

  let arr: unknown[] = [];
  for (let i = 0; i < 10_000; i++) arr = [arr];
  assert.doesNotThrow(() => JSON.stringify(toJsonSafe(arr)));

  assert.equal(toJsonSafe({ a: 1 }, { maxDepth: 0 }), TRUNCATED);
  assert.deepEqual(toJsonSafe({ a: { b: 1 }, s: 'x' }, { maxDepth: 1 }), { a: TRUNCATED, s: 'x' });
  // Leaf-like objects are strings, not containers, so depth does not apply to them.
  assert.deepEqual(toJsonSafe({ d: new Date(0) }, { maxDepth: 1 }), { d: '1970-01-01T00:00:00.000Z' });
  // In an attribute map, the map is level 0.
  assert.deepEqual(toJsonSafeProperties({ a: { b: { c: 1 } } }, { maxDepth: 2 }), { a: { b: TRUNCATED } });
  assert.deepEqual(toJsonSafeProperties({ a: { b: 1 }, n: 1 }, { maxDepth: 0 }), { a: TRUNCATED, n: 1 });
});

test('maxStringLength cuts strings, including base64 and bigint, without splitting surrogate pairs', () => {
  assert.equal(toJsonSafe('abcdef', { maxStringLength: 3 }), 'abc');
  assert.equal(toJsonSafe('abc', { maxStringLength: 3 }), 'abc');
  assert.equal(toJsonSafe('a🎉b', { maxStringLength: 2 }), 'a');
  assert.deepEqual(toJsonSafeProperties({ s: 'abcdef', n: 1 }, { maxStringLength: 2 }), { s: 'ab', n: 1 });
  assert.deepEqual(toJsonSafe({ deep: ['abcdef'] }, { maxStringLength: 4 }), { deep: ['abcd'] });
  assert.equal(toJsonSafe(Buffer.alloc(1_000_000), { maxStringLength: 6 }), 'AAAAAA');
  assert.equal(toJsonSafe(123456n, { maxStringLength: 3 }), '123');
  assert.equal(toJsonSafe('abc', { maxStringLength: 0 }), '');
});

test('a throwing getter makes only that key [unserializable]', () => {
  const obj = {
    ok: 1,
    get bad(): never {
      throw new Error('getter');
    },
  };
  assert.deepEqual(toJsonSafe(obj), { ok: 1, bad: UNSERIALIZABLE });
  assert.deepEqual(toJsonSafeProperties(obj), { ok: 1, bad: UNSERIALIZABLE });
  assert.deepEqual(toJsonSafe({ inner: obj }), { inner: { ok: 1, bad: UNSERIALIZABLE } });
  const arr = [1];
  Object.defineProperty(arr, 0, {
    get(): never {
      throw new Error('index');
    },
  });
  assert.deepEqual(toJsonSafe(arr), [UNSERIALIZABLE]);

  const err = new Error('m');
  Object.defineProperty(err, 'message', {
    get(): never {
      throw new Error('msg');
    },
  });
  assert.equal((toJsonSafe(err) as Record<string, unknown>).message, UNSERIALIZABLE);
});

test('a Proxy that throws on every trap never makes it throw', () => {
  const p = throwingProxy();
  assert.equal(toJsonSafe(p), UNSERIALIZABLE);
  assert.deepEqual(toJsonSafe({ p, ok: true }), { p: UNSERIALIZABLE, ok: true });
  assert.deepEqual(toJsonSafe([p]), [UNSERIALIZABLE]);
  assert.deepEqual(toJsonSafeProperties({ p, ok: true }), { p: UNSERIALIZABLE, ok: true });
  assert.deepEqual(toJsonSafeProperties(p as Record<string, unknown>), {});
  assert.deepEqual(toJsonSafe(new Map([['p', p]])), { p: UNSERIALIZABLE });

  const { proxy, revoke } = Proxy.revocable({}, {});
  revoke();
  assert.equal(toJsonSafe(proxy), UNSERIALIZABLE);
  assert.deepEqual(toJsonSafeProperties({ proxy }), { proxy: UNSERIALIZABLE });
});

test('hostile limits and non-object attribute maps do not throw', () => {
  // Unreadable limits fall back to the defaults.
  const limits = throwingProxy() as { maxDepth: number };
  assert.deepEqual(toJsonSafe({ a: 'x' }, limits), { a: 'x' });
  assert.equal(toJsonSafe('x', limits), 'x');
  assert.deepEqual(toJsonSafeProperties({ a: 1, o: { s: 'y' } }, limits), { a: 1, o: { s: 'y' } });
  for (const bad of [null, undefined, 'str', 42]) {
    assert.deepEqual(toJsonSafeProperties(bad as unknown as Record<string, unknown>), {});
  }
  assert.deepEqual(toJsonSafe({ a: { b: 1 } }, { maxDepth: NaN }), { a: { b: 1 } });
  assert.equal(toJsonSafe({ a: 1 }, { maxDepth: -5 }), TRUNCATED);
});

test('a "__proto__" key stays an own property and does not change the prototype', () => {
  const input = JSON.parse('{"__proto__": {"polluted": true}, "a": 1}') as Record<string, unknown>;
  for (const safe of [toJsonSafeProperties(input), toJsonSafe(input) as Record<string, unknown>]) {
    assert.equal(Object.getPrototypeOf(safe), Object.prototype);
    assert.deepEqual(Object.keys(safe), ['__proto__', 'a']);
    assert.equal((safe as { polluted?: unknown }).polluted, undefined);
    assertRoundTrips(safe);
  }
  const m = toJsonSafe(new Map([['__proto__', 'x']])) as Record<string, unknown>;
  assert.equal(Object.getPrototypeOf(m), Object.prototype);
  assert.deepEqual(Object.keys(m), ['__proto__']);
});

test('flat attribute maps copy primitives unchanged into a new object', () => {
  const attrs = { 'http.method': 'GET', 'http.status_code': 200, ok: true, nothing: null };
  const safe = toJsonSafeProperties(attrs);
  assert.notEqual(safe, attrs);
  assert.deepEqual(safe, attrs);
  assert.deepEqual(Object.keys(safe), Object.keys(attrs));
  // Inherited enumerable properties are not the map's own.
  const child = Object.create({ inherited: 1 }) as Record<string, unknown>;
  child.own = 2;
  assert.deepEqual(toJsonSafeProperties(child), { own: 2 });
});

test('inputs are not mutated', () => {
  const input = {
    s: 'x',
    n: NaN,
    big: [1, 2, { deep: { deeper: [new Date(0), -0] } }],
    bytes: new Uint8Array([1, 2]),
    map: new Map([['k', { v: Infinity }]]),
    set: new Set([1, 2]),
    u: undefined,
  };
  const before = structuredClone(input);
  toJsonSafe(input, { maxDepth: 2, maxStringLength: 1 });
  toJsonSafeProperties(input, { maxDepth: 2, maxStringLength: 1 });
  assert.deepEqual(input, before);

  const cyclic: Record<string, unknown> = { a: [1, 2] };
  cyclic.self = cyclic;
  const cyclicBefore = structuredClone(cyclic);
  toJsonSafe(cyclic);
  toJsonSafeProperties(cyclic);
  assert.deepEqual(cyclic, cyclicBefore);
});

test('JSON.stringify never throws on the output and the output round-trips', () => {
  const cyclic: Record<string, unknown> = {};
  cyclic.c = cyclic;
  const samples: unknown[] = [
    undefined,
    null,
    -0,
    NaN,
    10n,
    'str',
    Symbol('s'),
    () => 1,
    new Date(0),
    new Date(NaN),
    Buffer.from('x'),
    new Float64Array([1.5, NaN]),
    new Map<unknown, unknown>([[{}, 1n]]),
    new Set([NaN]),
    new Error('e', { cause: new Error('c') }),
    cyclic,
    throwingProxy(),
    { nested: { big: 1n, nan: NaN, arr: [undefined, -0, Infinity], u8: new Uint8Array([9]) } },
    [Object(1n), Object('s')],
  ];
  for (const sample of samples) {
    const safe = toJsonSafe(sample);
    assertRoundTrips(safe);
    const props = toJsonSafeProperties({ sample });
    assertRoundTrips(props);
  }
});

test('isPlainJson: values JSON.stringify writes as it writes their toJsonSafe form; anything else takes the walk', () => {
  for (const v of ['', 'a', 0, -0, 1.5, true, false, null, [], ['a', 1, true, null]]) {
    assert.equal(isPlainJson(v), true, String(v));
    assert.equal(JSON.stringify(v), JSON.stringify(toJsonSafe(v)), String(v));
  }
  // Holes are read as undefined: such an array is walked, which also writes them as null.
  const withHole = Object.assign(new Array<number>(3), { 0: 1, 2: 3 });
  for (const v of [
    undefined,
    NaN,
    Infinity,
    1n,
    {},
    [NaN],
    [{}],
    [[1]],
    [1n],
    withHole,
    Symbol('x'),
    () => 1,
    new Date(0),
    Buffer.from('x'),
  ]) {
    assert.equal(isPlainJson(v), false, typeof v);
  }
});

test('isPlainJson never throws and leaves out what JSON.stringify would not write as it is', () => {
  const { proxy, revoke } = Proxy.revocable([1], {});
  revoke();
  assert.equal(isPlainJson(proxy), false);
  assert.equal(isPlainJson(Object.assign([1, 2], { toJSON: () => 'x' })), false);
  class Items extends Array<number> {}
  assert.equal(isPlainJson(Items.from([1])), false);
  assert.equal(isPlainJson([1, 'a', true, null]), true);
});

test('a tally counts every value replaced by the unserializable marker', () => {
  const { proxy, revoke } = Proxy.revocable({}, {});
  revoke();
  const getter = Object.defineProperty({}, 'x', {
    enumerable: true,
    get() {
      throw new Error('no');
    },
  });
  const tally = { unconvertible: 0 };
  const safe = toJsonSafe(
    {
      proxy,
      getter,
      list: [proxy, 1],
      fine: 'ok',
      thrower: {
        toJSON: () => {
          throw new Error('no');
        },
      },
    },
    undefined,
    tally,
  );
  assert.deepEqual(safe, {
    proxy: UNSERIALIZABLE,
    getter: { x: UNSERIALIZABLE },
    list: [UNSERIALIZABLE, 1],
    fine: 'ok',
    thrower: UNSERIALIZABLE,
  });
  assert.equal(tally.unconvertible, 4);
  assert.equal(toJsonSafe(proxy, undefined, tally), UNSERIALIZABLE);
  assert.equal(tally.unconvertible, 5);
  // Without a tally nothing is counted, and nothing fails.
  assert.deepEqual(toJsonSafe([proxy]), [UNSERIALIZABLE]);
});

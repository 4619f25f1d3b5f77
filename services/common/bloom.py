"""A Bloom filter that forgets: rotating generations, in Redis (shared by every replica) or in process.

Generation keys are `<prefix>:<epoch>` with epoch = ⌊now / period⌋ (wall clock, so every replica
agrees). Items are added to the current generation and looked up in the current and the previous
G−1, so an item is remembered for between (G−1)·period and G·period with no per-item TTL; a key
expires once no lookup reads it any more (at the end of epoch + G). Each generation is sized for
`capacity` items at p/G, so the union of G generations stays within p.

Where the bits live:
- stock Redis 7 (no BF.*): k offsets from one stable 128-bit hash (BLAKE2b) by Kirsch–Mitzenmacher
  double hashing, g_i = h1 + i·h2 mod m; set with `BITFIELD … SET u1` and read with `BITFIELD_RO …
  GET u1` for a whole batch of items, every live generation in one round trip (a small script
  issues them: see below);
- a server with RedisBloom (built in from Redis 8, detected with `COMMAND INFO BF.MADD`):
  `BF.INSERT … NONSCALING` and `BF.MEXISTS`;
- no Redis: the same bits in a bytearray.
The hash is not Python's `hash()` (salted per process): a filter written by one process must answer
the same in another. The prefix should hold a hash tag (`{…}`) so a Redis Cluster keeps all of one
filter's generations in one slot and a pipeline over them stays on one node.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from services.common.redis_client import RedisClient, RedisCluster

_LN2 = math.log(2)
_ITEMS_PER_COMMAND = 512  # items per script call, for large adds and lookups


@dataclass(frozen=True)
class BloomShape:
    """m bits and k hash functions for `capacity` items at false-positive rate `error_rate` (one generation)."""

    bits: int
    hashes: int
    capacity: int
    error_rate: float

    @classmethod
    def for_capacity(cls, capacity: int, error_rate: float) -> BloomShape:
        if capacity < 1 or not 0 < error_rate < 1:
            raise ValueError("capacity must be ≥ 1 and error_rate in (0, 1)")
        bits = math.ceil(-capacity * math.log(error_rate) / _LN2**2)
        if bits >= 2**32:
            raise ValueError("a Redis string holds at most 2^32 bits: lower the capacity or raise the error rate")
        return cls(bits, max(1, round(bits / capacity * _LN2)), capacity, error_rate)

    def offsets(self, item: str) -> list[int]:
        digest = hashlib.blake2b(item.encode(), digest_size=16).digest()
        h1 = int.from_bytes(digest[:8], "little")
        h2 = int.from_bytes(digest[8:], "little") | 1  # odd, so the k offsets do not collapse onto one
        return [(h1 + i * h2) % self.bits for i in range(self.hashes)]

    def estimated_items(self, bits_set: int) -> float:
        """Swamidass & Baldi: n ≈ −(m/k)·ln(1 − X/m) for X bits set."""
        if bits_set >= self.bits:
            return float("inf")
        return -(self.bits / self.hashes) * math.log1p(-bits_set / self.bits)


class BloomBackend(Protocol):
    """One filter per key. `contains` answers, per item, whether it may be in any of `keys`."""

    async def add(self, key: str, items: Sequence[str], ttl_s: float) -> None: ...
    async def contains(self, keys: Sequence[str], items: Sequence[str]) -> list[bool]: ...
    async def estimated_items(self, key: str) -> float: ...


class MemoryBloom:
    """The bits in process, for a single replica without Redis."""

    def __init__(self, shape: BloomShape) -> None:
        self._shape = shape
        self._filters: dict[str, tuple[float, bytearray]] = {}

    async def add(self, key: str, items: Sequence[str], ttl_s: float) -> None:
        now = time.monotonic()
        for stale in [k for k, (expires, _) in self._filters.items() if expires <= now]:
            del self._filters[stale]
        _, bits = self._filters.get(key) or (0.0, bytearray((self._shape.bits + 7) // 8))
        for item in items:
            for offset in self._shape.offsets(item):
                bits[offset >> 3] |= 0x80 >> (offset & 7)  # big-endian within a byte, like Redis
        self._filters[key] = (now + ttl_s, bits)

    async def contains(self, keys: Sequence[str], items: Sequence[str]) -> list[bool]:
        now = time.monotonic()
        live = [entry[1] for entry in map(self._filters.get, keys) if entry is not None and entry[0] > now]
        return [
            any(all(bits[o >> 3] & (0x80 >> (o & 7)) for o in self._shape.offsets(item)) for bits in live)
            for item in items
        ]

    async def estimated_items(self, key: str) -> float:
        entry = self._filters.get(key)
        if entry is None:
            return 0.0
        return self._shape.estimated_items(sum(byte.bit_count() for byte in entry[1]))


# The BITFIELD commands run in these scripts, which take the k·n offsets as one argument: redis-py packs
# every argument of a command in Python, and `BITFIELD_RO key GET u1 o …` for 40 IDs is 3·k·40 of them
# (13 ms a lookup, measured, against under 1 ms this way). Lua's unpack() is bounded, hence the chunks.
_OPS_PER_CALL = 1000  # BITFIELD operations per redis.call: Lua unpack() takes at most ~8000 values

_ADD_SCRIPT = """
local ops = {}
for offset in string.gmatch(ARGV[1], '%d+') do
  ops[#ops + 1] = 'SET'; ops[#ops + 1] = 'u1'; ops[#ops + 1] = offset; ops[#ops + 1] = 1
end
for first = 1, #ops, 4 * OPS_PER_CALL do
  redis.call('BITFIELD', KEYS[1], unpack(ops, first, math.min(first + 4 * OPS_PER_CALL - 1, #ops)))
end
redis.call('EXPIRE', KEYS[1], ARGV[2])
return 0
""".replace("OPS_PER_CALL", str(_OPS_PER_CALL))

# Returns, per item, 1 when all its k bits are set in at least one of KEYS (the live generations).
_CONTAINS_SCRIPT = """#!lua flags=no-writes
local k = tonumber(ARGV[2])
local ops = {}
for offset in string.gmatch(ARGV[1], '%d+') do
  ops[#ops + 1] = 'GET'; ops[#ops + 1] = 'u1'; ops[#ops + 1] = offset
end
local items = #ops / 3 / k
local found = {}
for i = 1, items do found[i] = 0 end
for _, key in ipairs(KEYS) do
  local bits = {}
  for first = 1, #ops, 3 * OPS_PER_CALL do
    local part = redis.call('BITFIELD_RO', key, unpack(ops, first, math.min(first + 3 * OPS_PER_CALL - 1, #ops)))
    for _, bit in ipairs(part) do bits[#bits + 1] = bit end
  end
  for i = 1, items do
    if found[i] == 0 then
      local all = 1
      for j = (i - 1) * k + 1, i * k do
        if bits[j] == 0 then all = 0; break end
      end
      found[i] = all
    end
  end
end
return found
""".replace("OPS_PER_CALL", str(_OPS_PER_CALL))


class BitfieldBloom:
    """The bits in a Redis string, on any Redis ≥ 7 (BITFIELD_RO, script flags)."""

    def __init__(self, redis: RedisClient, shape: BloomShape) -> None:
        self._shape = shape
        self._add = redis.register_script(_ADD_SCRIPT)
        self._contains = redis.register_script(_CONTAINS_SCRIPT)

    async def add(self, key: str, items: Sequence[str], ttl_s: float) -> None:
        ttl = max(1, math.ceil(ttl_s))
        for chunk in _chunks(items):
            await self._add(keys=[key], args=[self._offsets(chunk), ttl])

    async def contains(self, keys: Sequence[str], items: Sequence[str]) -> list[bool]:
        found: list[bool] = []
        for chunk in _chunks(items):
            reply = await self._contains(keys=list(keys), args=[self._offsets(chunk), self._shape.hashes])
            found.extend(bool(flag) for flag in reply)
        return found

    async def estimated_items(self, key: str) -> float:
        return self._shape.estimated_items(int(await self._add.registered_client.bitcount(key)))

    def _offsets(self, items: Sequence[str]) -> str:
        return ",".join(str(offset) for item in items for offset in self._shape.offsets(item))


def _chunks(items: Sequence[str]) -> list[Sequence[str]]:
    return [items[i : i + _ITEMS_PER_COMMAND] for i in range(0, len(items), _ITEMS_PER_COMMAND)]


class NativeBloom:
    """RedisBloom's own filters (Redis 8, or a server with the module), reserved non-scaling at the shape's size."""

    def __init__(self, redis: RedisClient, shape: BloomShape) -> None:
        self._redis = redis
        self._shape = shape

    async def add(self, key: str, items: Sequence[str], ttl_s: float) -> None:
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.execute_command(
                "BF.INSERT",
                key,
                "CAPACITY",
                self._shape.capacity,
                "ERROR",
                repr(self._shape.error_rate),
                "NONSCALING",
                "ITEMS",
                *items,
            )
            pipe.expire(key, max(1, math.ceil(ttl_s)))
            await pipe.execute()

    async def contains(self, keys: Sequence[str], items: Sequence[str]) -> list[bool]:
        async with self._redis.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.execute_command("BF.MEXISTS", key, *items)
            replies: list[list[int]] = await pipe.execute()
        return [any(int(reply[i]) for reply in replies) for i in range(len(items))]

    async def estimated_items(self, key: str) -> float:
        return float(await self._redis.execute_command("BF.CARD", key))  # type: ignore[no-untyped-call,unused-ignore]


async def redis_bloom(redis: RedisClient, shape: BloomShape) -> BloomBackend:
    """The native filter when the server has BF.* commands, else the BITFIELD one."""
    # [None] when the server does not know the command
    if isinstance(redis, RedisCluster):  # a keyless command: any node answers for the cluster
        await redis.initialize()
        info = await redis.execute_command("COMMAND INFO", "BF.MADD", target_nodes=redis.get_random_node())
    else:
        info = await redis.execute_command("COMMAND INFO", "BF.MADD")  # type: ignore[no-untyped-call]
    has_native = isinstance(info, list) and bool(info) and info[0] is not None
    return NativeBloom(redis, shape) if has_native else BitfieldBloom(redis, shape)


class RotatingBloom:
    """Generations of one filter: add to the current, look up in the last `generations`."""

    def __init__(
        self,
        backend: BloomBackend,
        prefix: str,
        *,
        period_s: float,
        generations: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if period_s <= 0 or generations < 1:
            raise ValueError("period_s must be > 0 and generations ≥ 1")
        self.backend = backend
        self._prefix = prefix
        self._period_s = period_s
        self._generations = generations
        self._clock = clock

    def current_key(self) -> str:
        return self._key(self._epoch())

    async def add(self, items: Iterable[str]) -> None:
        batch = list(items)
        if not batch:
            return
        epoch = self._epoch()
        # Read until the end of epoch + G − 1; gone after that.
        ttl_s = (epoch + self._generations) * self._period_s - self._clock()
        await self.backend.add(self._key(epoch), batch, ttl_s)

    async def contains(self, items: Sequence[str]) -> list[bool]:
        if not items:
            return []
        epoch = self._epoch()
        return await self.backend.contains([self._key(epoch - g) for g in range(self._generations)], items)

    def _epoch(self) -> int:
        return int(self._clock() // self._period_s)

    def _key(self, epoch: int) -> str:
        return f"{self._prefix}:{epoch}"

#!/usr/bin/env python3
"""Independent reference for Linalg's Xoshiro256 (fixture generator for LinalgTests).

Implements, from the published C reference code (https://prng.di.unimi.it/, Blackman & Vigna
2018, "Scrambled linear pseudorandom number generators"):
  - splitmix64.c  (seeding: the four state words are four successive SplitMix64 outputs)
  - xoshiro256starstar.c  (next(): rotl(s1 * 5, 7) * 9, then the xor/shift/rotate update)
and the project's documented conversions: Float = (x >> 40) * 2^-24, Double = (x >> 11) * 2^-53.

Prints Swift literals that Tests/LinalgTests/XoshiroTests.swift pastes; rerun to check them:
    python3 scripts/xoshiro256_reference.py
"""
MASK = (1 << 64) - 1


def splitmix64(state):
    state = (state + 0x9E3779B97F4A7C15) & MASK
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return state, z ^ (z >> 31)


def rotl(x, k):
    return ((x << k) | (x >> (64 - k))) & MASK


class Xoshiro256StarStar:
    def __init__(self, seed):
        sm = seed & MASK
        self.s = []
        for _ in range(4):
            sm, z = splitmix64(sm)
            self.s.append(z)

    def next(self):
        s = self.s
        result = (rotl((s[1] * 5) & MASK, 7) * 9) & MASK
        t = (s[1] << 17) & MASK
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = rotl(s[3], 45)
        return result


def main():
    for seed in (0, 42, 0xDEADBEEF):
        g = Xoshiro256StarStar(seed)
        state = ", ".join("0x%016X" % w for w in g.s)
        words = ", ".join("0x%016X" % g.next() for _ in range(6))
        print(f"// seed {seed:#x}: state words after seeding, then next() x 6")
        print(f"({seed:#x}, [{state}], [{words}]),")
    g = Xoshiro256StarStar(7)
    floats = [(g.next() >> 40) * 2.0**-24 for _ in range(4)]
    doubles = [(g.next() >> 11) * 2.0**-53 for _ in range(4)]
    print("// seed 7: nextFloat() x 4, then nextDouble() x 4 (exact decimal of the binary value)")
    print("[" + ", ".join(repr(f) for f in floats) + "]")
    print("[" + ", ".join(repr(d) for d in doubles) + "]")


if __name__ == "__main__":
    main()

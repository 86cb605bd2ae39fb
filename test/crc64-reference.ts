// CRC-64/XZ (OSS's crc64ecma) written from the polynomial, bit by bit, sharing nothing with
// src/crc64.ts: the tests' independent check of the service's values (workerd and SDK suites).

/** Reflects the low `bits` bits of a value (BigInt), as the reflected CRC's register runs. */
function reflect(value: bigint, bits: number): bigint {
  let out = 0n;
  for (let i = 0; i < bits; i++) if ((value >> BigInt(i)) & 1n) out |= 1n << BigInt(bits - 1 - i);
  return out;
}

/** ECMA-182: x^64 + x^62 + x^57 + … + 1, the form the standard writes it in. */
const ECMA_182 = 0x42f0e1eba9ea3693n;
const REFLECTED = reflect(ECMA_182, 64);
const R_HI = Number(REFLECTED >> 32n);
const R_LO = Number(REFLECTED & 0xffffffffn);

/**
 * CRC-64/XZ (OSS's crc64ecma) one bit at a time: register all ones, input bits least significant
 * first, the reflected polynomial XORed in when a one falls out, all ones XORed at the end. The
 * register is two 32-bit halves so megabytes take a fraction of a second.
 */
export function referenceCrc64(bytes: Uint8Array): string {
  let hi = 0xffffffff;
  let lo = 0xffffffff;
  for (const byte of bytes) {
    lo = (lo ^ byte) >>> 0;
    for (let bit = 0; bit < 8; bit++) {
      const out = lo & 1;
      lo = ((lo >>> 1) | ((hi & 1) << 31)) >>> 0;
      hi >>>= 1;
      if (out) {
        hi = (hi ^ R_HI) >>> 0;
        lo = (lo ^ R_LO) >>> 0;
      }
    }
  }
  return ((BigInt(~hi >>> 0) << 32n) | BigInt(~lo >>> 0)).toString();
}

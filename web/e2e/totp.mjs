// RFC 6238 TOTP (SHA-1, 6 digits, 30 s steps) for the e2e run, on node:crypto.
import { createHmac } from "node:crypto";

export const STEP_SECONDS = 30;
const BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

export function base32Decode(text) {
  const clean = text.replace(/[\s=-]/g, "").toUpperCase();
  let bits = 0;
  let value = 0;
  const bytes = [];
  for (const char of clean) {
    const index = BASE32.indexOf(char);
    if (index < 0) throw new Error(`not base32: ${JSON.stringify(char)}`);
    value = (value << 5) | index;
    bits += 5;
    if (bits >= 8) {
      bytes.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(bytes);
}

/** The code of one time step (RFC 4226 HOTP with the step as counter). */
export function hotp(secret, counter) {
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(BigInt(counter));
  const digest = createHmac("sha1", base32Decode(secret)).update(message).digest();
  const offset = digest[digest.length - 1] & 0x0f;
  const binary = digest.readUInt32BE(offset) & 0x7fffffff;
  return String(binary % 1_000_000).padStart(6, "0");
}

export const currentStep = (now = Date.now()) => Math.floor(now / 1000 / STEP_SECONDS);

/**
 * Codes are accepted once per step, and the server allows one step of clock drift either way:
 * hand out a code of a step later than any used before, starting with the previous step's code
 * (a clock running a little behind) and then taking the next step's (a clock a little ahead)
 * rather than waiting, so three codes in a row never wait; wait only when even that one was used.
 * (Starting at the current step made the run's third code wait for the next step: 0-30 s, 15 s
 * on average, of a run of about 80 s.)
 */
export function totpGenerator(secret, { drift = 1 } = {}) {
  let lastStep = -1;
  return async function nextCode() {
    let step = Math.max(currentStep() - drift, lastStep + 1);
    if (step > currentStep() + drift) {
      const wait = (step - drift) * STEP_SECONDS * 1000 - Date.now() + 250;
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, wait)));
      step = Math.max(currentStep(), lastStep + 1);
    }
    lastStep = step;
    return hotp(secret, step);
  };
}

/**
 * Why a test's real component (PostgreSQL, Redis, Kannel, Chromium) cannot run here, or false.
 * In CI (`CI=true`) always false: there a missing component makes its tests fail, never skip.
 */
export function unlessInCi(missing: string | false): string | false {
  return process.env.CI === "true" ? false : missing;
}

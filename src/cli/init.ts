import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { ConfigError } from "../errors.ts";
import { scaffoldFiles } from "./scaffold.ts";

/** This package's version, for the scaffold's dependency (package.json sits two folders up, in src/ and in dist/ alike). */
function ownVersion(): string {
  return (JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }).version;
}

/** `rapidsms init DIR`: writes a new project into DIR, which must not exist or be empty. */
export function runInit(dir: string, log: (line: string) => void = (line) => process.stdout.write(`${line}\n`)): void {
  const target = resolve(dir);
  if (existsSync(target) && readdirSync(target).length > 0) throw new ConfigError(`${dir} is not empty: give a new folder, as in rapidsms init my-service`);
  const name = basename(target)
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, "-")
    .replace(/^[._-]+/, "");
  if (name === "") throw new ConfigError(`cannot make a package name from "${dir}": use letters, digits, dots, dashes`);
  if (name === "rapidsms-ts") throw new ConfigError(`a project named rapidsms-ts could not depend on rapidsms-ts: give another folder name`);
  for (const [file, content] of Object.entries(scaffoldFiles(name, ownVersion()))) {
    mkdirSync(dirname(join(target, file)), { recursive: true });
    writeFileSync(join(target, file), content);
  }
  log(`created ${dir}: a RapidSMS project with an app (apps/register.ts), its test and a config`);
  log(`next:  cd ${JSON.stringify(dir)} && npm install && npm start    then open http://127.0.0.1:8000/tester/ and send "join Amina"`);
}

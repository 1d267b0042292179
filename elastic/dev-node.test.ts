import { mkdirSync, mkdtempSync, writeFileSync, chmodSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { findJdk, listJdks } from './dev-node';

function fakeJdk(root: string, name: string, version: string): string {
  const home = path.join(root, name);
  mkdirSync(path.join(home, 'bin'), { recursive: true });
  writeFileSync(path.join(home, 'release'), `JAVA_VERSION="${version}"\n`);
  writeFileSync(path.join(home, 'bin', 'java'), '#!/bin/sh\n');
  chmodSync(path.join(home, 'bin', 'java'), 0o755);
  return home;
}

describe('findJdk', () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'ak-jdk-'));
  const j17 = fakeJdk(root, 'jdk17', '17.0.15');
  const j21 = fakeJdk(root, 'jdk21', '21.0.2');

  it('prefers ES_JAVA_HOME when it is new enough, else the newest JDK found', () => {
    expect(findJdk('8.19.21', {}, root).home).toBe(j21);
    expect(findJdk('8.19.21', { ES_JAVA_HOME: j17 }, root).home).toBe(j17);
    expect(findJdk('9.3.0', { ES_JAVA_HOME: j21 }, root).home).toBe(j21);
  });

  it('reads versions from the release file, old-style 1.8 included', () => {
    const j8 = fakeJdk(root, 'jdk8', '1.8.0_402');
    const seen = listJdks({ JAVA_HOME: j8 }).find((j) => j.home === j8);
    expect(seen?.major).toBe(8);
  });

  it('says what it found and what is missing when no JDK is new enough', () => {
    const onlyOld = mkdtempSync(path.join(os.tmpdir(), 'ak-jdk-old-'));
    const j11 = fakeJdk(onlyOld, 'jdk11', '11.0.1');
    const err = (() => {
      try {
        findJdk('9.3.0', { ES_JAVA_HOME: j11 }, path.join(onlyOld, 'no-such-jvm-dir'));
      } catch (e) {
        return e as { code: string; message: string };
      }
      return undefined;
    })();
    expect(err?.code).toBe('AK_ES_NO_JDK');
    expect(err?.message).toMatch(/needs a JDK 21 or newer; found .*jdk11 \(11\.0\.1\).*ES_JAVA_HOME/);
  });
});

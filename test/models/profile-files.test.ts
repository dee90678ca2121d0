import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { attachCloudProfile, CLOUD_PROFILE_FILE, loadProfile } from '../../models/profile-files';

describe('attachCloudProfile', () => {
  let exportDir: string;
  beforeEach(() => {
    exportDir = mkdtempSync(join(tmpdir(), 'offload-cloudprofile-'));
  });
  afterEach(() => rmSync(exportDir, { recursive: true, force: true }));

  it('copies the committed profile into the export when it was taken at the export input shape', () => {
    // Prepare: the committed 224×224 MobileNetV2 profile
    const committed = loadProfile('mobilenetv2');
    // Act
    const attached = attachCloudProfile('mobilenetv2', committed.inputShape, exportDir);
    // Assess
    expect(attached).toBe(true);
    const copy = readFileSync(join(exportDir, CLOUD_PROFILE_FILE), 'utf8');
    expect(JSON.parse(copy)).toMatchObject({ model: 'mobilenetv2', backend: 'wasm', inputShape: [224, 224, 3] });
  });

  it('attaches nothing to an export at another input size, and removes a stale copy', () => {
    writeFileSync(join(exportDir, 'placeholder'), '');
    expect(attachCloudProfile('mobilenetv2', [224, 224, 3], exportDir)).toBe(true);
    expect(attachCloudProfile('mobilenetv2', [64, 64, 3], exportDir)).toBe(false);
    expect(existsSync(join(exportDir, CLOUD_PROFILE_FILE))).toBe(false);
  });

  it('attaches nothing for a model without a committed profile', () => {
    expect(attachCloudProfile('tinychain', [16, 16, 3], exportDir)).toBe(false);
    expect(existsSync(join(exportDir, CLOUD_PROFILE_FILE))).toBe(false);
  });
});

// The behaviour contract in Chromium (scenarios.ts, written once for every engine).
import { launchChromiumDriver } from './adapters/chromium.ts';
import { defineContract } from './contract.ts';

defineContract('chromium', launchChromiumDriver);

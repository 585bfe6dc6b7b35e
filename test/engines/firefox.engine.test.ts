// The behaviour contract in Firefox (scenarios.ts, written once for every engine).
import { launchFirefoxDriver } from './adapters/firefox.ts';
import { defineContract } from './contract.ts';

defineContract('firefox', launchFirefoxDriver);

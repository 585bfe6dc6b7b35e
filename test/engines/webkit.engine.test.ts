// The behaviour contract in WebKit (scenarios.ts, written once for every engine).
import { launchWebKitDriver } from './adapters/webkit.ts';
import { defineContract } from './contract.ts';

defineContract('webkit', launchWebKitDriver);

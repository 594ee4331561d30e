#!/usr/bin/env node
// The package's command. The sources are TypeScript run through tsx's loader, so the installed
// command and `npm start` execute exactly the same code with no build step in between.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');

#!/usr/bin/env node
// The `vouch` executable. It lives outside dist/ so package managers can link it before the
// first build (a workspace checkout), and it runs the built CLI.
import '../dist/bin.js';

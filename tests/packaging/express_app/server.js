'use strict';
const { HookguardClient } = require('@hookguard/client');
const { makeApp } = require('./app');

const client = new HookguardClient(process.env.HOOKGUARD_TARGET || 'localhost:50051');
makeApp(client).listen(Number(process.env.PORT), '127.0.0.1', () => console.log('listening'));

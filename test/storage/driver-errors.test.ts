/**
 * The outage checks tell driver errors by name so that the embedded stores need not load the drivers
 * (src/storage/mongo/outage.ts, src/storage/unavailable.ts); here, against the drivers themselves, the names
 * say what `instanceof` said.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as mongodb from 'mongodb';
import { ReplyError } from 'ioredis';
import { isMongoOutage } from '../../src/storage/mongo/outage.ts';
import { isRedisOutage } from '../../src/storage/unavailable.ts';
import { isStoreOutage } from '../../src/http/customer-pages.ts';

describe('driver errors told by name', () => {
  test('every MongoDB error class: an outage exactly when it is (a subclass of) a network, server selection or topology-closed error', () => {
    const outages = [mongodb.MongoNetworkError, mongodb.MongoServerSelectionError, mongodb.MongoTopologyClosedError];
    const classes = (Object.entries(mongodb) as Array<[string, unknown]>).filter(
      (entry): entry is [string, new (...args: never[]) => Error] => typeof entry[1] === 'function' && entry[1].prototype instanceof Error,
    );
    assert.ok(classes.length > 30, `the driver's error classes (${classes.length})`);
    let seen = 0;
    for (const [name, ErrorClass] of classes) {
      const err = Object.create(ErrorClass.prototype) as Error;
      const expected = outages.some((outage) => err instanceof outage);
      if (expected) seen++;
      assert.equal(isMongoOutage(err), expected, name);
      assert.equal(isStoreOutage(err), expected, name);
    }
    assert.ok(seen >= 4, 'MongoNetworkTimeoutError is one of them');
    assert.equal(isMongoOutage(new mongodb.MongoNetworkTimeoutError('timed out')), true);
    assert.equal(isMongoOutage(new mongodb.MongoServerError({ message: 'E11000 duplicate key' })), false);
  });

  test('a Redis reply error is not an outage, whatever it says; a client error is', () => {
    assert.equal(isRedisOutage(new ReplyError('Command timed out')), false);
    assert.equal(isRedisOutage(new ReplyError('ERR unknown command')), false);
    assert.equal(isRedisOutage(new Error('Command timed out')), true);
    assert.equal(isRedisOutage(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' })), true);
  });
});

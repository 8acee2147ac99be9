import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nunjucks from 'nunjucks';
import { createViews, VIEWS_DIR } from '../../src/interaction/views.ts';

/** counts nunjucks template compilations (Template#_compile runs the lexer, parser and compiler) */
function countCompiles(): { readonly count: number; restore(): void } {
  const proto = nunjucks.Template.prototype as unknown as { _compile(): void };
  const original = proto._compile;
  const counter = {
    count: 0,
    restore: () => {
      proto._compile = original;
    },
  };
  proto._compile = function (this: unknown) {
    counter.count++;
    return original.call(this);
  };
  return counter;
}

describe('views: templates compiled once per process', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'assent-views-'));
    mkdirSync(join(dir, 'partials'));
    writeFileSync(join(dir, 'layout.njk'), '<main>{% block body %}{% endblock %}</main>');
    writeFileSync(join(dir, 'partials', 'name.njk'), '<b>{{ name }}</b>');
    writeFileSync(join(dir, 'page.njk'), '{% extends "layout.njk" %}{% block body %}v1 {% include "partials/name.njk" %}{% endblock %}');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('compiles every template at creation and never again across renders', () => {
    const compiles = countCompiles();
    try {
      const views = createViews(dir, { noCache: false });
      assert.equal(compiles.count, 3, 'layout, page and the partial compiled up front');
      for (let i = 0; i < 20; i++) assert.equal(views.render('page', { name: `n${i}` }), `<main>v1 <b>n${i}</b></main>`);
      assert.equal(compiles.count, 3, 'no compilation during renders');
      // an edit on disk is not seen: the compiled template is kept
      writeFileSync(join(dir, 'page.njk'), '{% extends "layout.njk" %}{% block body %}v2{% endblock %}');
      assert.equal(views.render('page', { name: 'x' }), '<main>v1 <b>x</b></main>');
    } finally {
      compiles.restore();
      writeFileSync(join(dir, 'page.njk'), '{% extends "layout.njk" %}{% block body %}v1 {% include "partials/name.njk" %}{% endblock %}');
    }
  });

  it('development mode re-reads and recompiles templates on every render', () => {
    const compiles = countCompiles();
    try {
      const views = createViews(dir, { noCache: true });
      assert.equal(compiles.count, 0, 'nothing compiled up front');
      assert.equal(views.render('page', { name: 'a' }), '<main>v1 <b>a</b></main>');
      const first = compiles.count;
      assert.ok(first >= 3);
      writeFileSync(join(dir, 'page.njk'), '{% extends "layout.njk" %}{% block body %}v2{% endblock %}');
      assert.equal(views.render('page', { name: 'a' }), '<main>v2</main>', 'the edit shows without a restart');
      assert.ok(compiles.count > first);
    } finally {
      compiles.restore();
    }
  });

  it('NODE_ENV decides the default: development reloads, anything else caches', () => {
    const saved = process.env.NODE_ENV;
    const compiles = countCompiles();
    try {
      process.env.NODE_ENV = 'development';
      createViews(dir);
      assert.equal(compiles.count, 0);
      delete process.env.NODE_ENV;
      createViews(dir);
      assert.equal(compiles.count, 3);
    } finally {
      compiles.restore();
      if (saved === undefined) delete process.env.NODE_ENV;
      else process.env.NODE_ENV = saved;
    }
  });

  it("the application's own views all compile at startup", () => {
    const compiles = countCompiles();
    try {
      const views = createViews(VIEWS_DIR, { noCache: false });
      const upFront = compiles.count;
      assert.ok(upFront >= 5, `compiled ${upFront}`);
      views.render('error', { message: 'm', requestId: 'r' });
      views.render('error', { message: 'm', requestId: 'r', locale: 'pt-BR' });
      assert.equal(compiles.count, upFront);
    } finally {
      compiles.restore();
    }
  });
});

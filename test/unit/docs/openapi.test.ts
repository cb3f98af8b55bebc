/**
 * docs/openapi.json is generated from the route table and the handlers' zod schemas: it must be exactly
 * what `npm run docs:openapi` writes today, and it must describe every deployed route.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { API_ROUTES, deployedRoutes } from '../../../infra/constructs/api-routes.ts';
import { OPENAPI_FILE, openApiDocument, openApiText } from '../../../scripts/openapi.ts';

describe('File: docs/openapi.json', () => {
  it('is what the generator writes from the current schemas (run npm run docs:openapi when this fails)', () => {
    expect(readFileSync(OPENAPI_FILE, 'utf8')).toBe(openApiText());
  });

  it('describes every deployed route, with its roles, as OpenAPI 3.1', () => {
    const document = openApiDocument() as {
      openapi: string;
      paths: Record<string, Record<string, { 'x-auditseal-roles': string[] }>>;
    };
    expect(document.openapi).toBe('3.1.0');
    for (const route of deployedRoutes(API_ROUTES)) {
      expect(
        document.paths[route.path]?.[route.method.toLowerCase()]?.['x-auditseal-roles'],
        route.path,
      ).toEqual(route.roles);
    }
  });

  it('documents the search parameters the handler validates, and nothing else', () => {
    const document = openApiDocument() as {
      paths: Record<string, Record<string, { parameters: { name: string }[] }>>;
    };
    expect(document.paths['/v1/events']!['get']!.parameters.map((p) => p.name).sort()).toEqual(
      [
        'action',
        'actor',
        'channel',
        'cursor',
        'include',
        'from',
        'limit',
        'outcome',
        'receipts',
        'resource',
        'source',
        'to',
      ].sort(),
    );
  });
});

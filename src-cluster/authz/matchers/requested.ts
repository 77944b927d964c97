// Requested principals as clients send them: checked against the field's format before any role
// sees them, so "*" or an option-looking value is refused with a clear reason instead of being
// matched (a request never names "every user").
import { ErrorCode, GatehouseError } from '../../../src-shared/errors.ts';
import { PRINCIPAL_RULES, type PrincipalField } from '../../resources/role-principals.ts';
import type { RequestedPrincipal } from './matcher.ts';

export function requestedPrincipal(field: PrincipalField, value: string): RequestedPrincipal {
  const problem = typeof value === 'string' ? PRINCIPAL_RULES[field].problem(value) : 'expected a string';
  if (problem) {
    throw new GatehouseError(ErrorCode.BAD_REQUEST, `${PRINCIPAL_RULES[field].noun}: ${problem}`, { field });
  }
  return { field, value };
}

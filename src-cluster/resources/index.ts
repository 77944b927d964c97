// Public surface of resource definitions and validation; see each module for the why.
export { createRegistry, unknownKindMessage } from './registry.ts';
export type { KindDefinition, KindRegistry, Resource, ResourceMetadata, TextColumn } from './registry.ts';
export { createDefaultRegistry, isRole, isUser } from './kinds.ts';
export { parseResource, parseResources } from './parse.ts';
export type { ParseOptions } from './parse.ts';
export { checkKind, checkResource, formatPath, issuesError, validateKind, validateResource } from './validate.ts';
export type { CheckOptions, CheckResult, LocateField, ResourceIssue } from './validate.ts';
export { orderedResource, toJson, toText, toYaml } from './print.ts';
export { durationProblem, formatDuration, parseDurationMs } from './duration.ts';
export { compileSelector, globToRegExp, matchLabels } from './labels.ts';
export type { LabelMatcher, LabelSelector, NodeLabels } from './labels.ts';
export {
  defaultIssueMessage,
  guardedRecord,
  labelKeyProblem,
  labels,
  nameProblem,
  resourceName,
  strictFields,
  stringList,
  wrongType,
} from './fields.ts';
export {
  LOGIN_TEMPLATES,
  ROLE_VERBS,
  loginProblem,
  loginTemplateTrait,
  newRole,
  presetRoles,
  roleKind,
  roleSchema,
} from './role.ts';
export type { RoleConditions, RoleOptions, RoleResource, RoleRule, RoleSpec, RoleVerb } from './role.ts';
export { RoleSet, roleSetForUser } from './role-set.ts';
export type { AccessDecision, NodeInfo } from './role-set.ts';
export { newUser, userKind, userSchema, userTraits } from './user.ts';
export type { NewUserOptions, UserResource, UserSpec, UserTraits } from './user.ts';

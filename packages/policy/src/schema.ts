/**
 * The Cedar schema every Briefcase policy is validated against. Principals are the agent (through
 * the gateway) and the admin (the CLI's own tool calls); the resource is the tool being called.
 *
 * `resource.server` names the remote MCP server a tool comes from ("briefcase" for the daemon's
 * own builtin and HTTP tools).
 *
 * `context.args` carries the call's arguments with sensitive ones removed, built by
 * cedar-context.ts. Argument shapes differ per tool, so the schema declares an empty record:
 * conditions on arguments must test `has` first (`context.args has repo && context.args.repo ==
 * "x"`), the validator's "policy is impossible" warning for such policies is dropped, and
 * arg-warnings.ts says instead what an argument of another type does to each condition.
 */
export const CEDAR_SCHEMA = `namespace Briefcase {
  entity Agent;
  entity Admin;
  entity Tool {
    name: String,
    origin: String,
    server: String,
    category: String,
    tags: Set<String>,
  };
  action call appliesTo {
    principal: [Agent, Admin],
    resource: Tool,
    context: {
      estimated_cost: Long,
      now: Long,
      hour_utc: Long,
      args: {},
    },
  };
}
`;

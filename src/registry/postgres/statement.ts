/** One SQL statement; a `name` makes node-postgres prepare it once per connection. */
export interface Statement {
  readonly name?: string;
  readonly text: string;
}

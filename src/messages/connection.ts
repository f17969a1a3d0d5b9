/** One identity (a phone number, a user id) on one backend; unique per (backend, identity). */
export interface Connection {
  readonly id: number;
  readonly backend: string;
  readonly identity: string;
  readonly contactId: number | null;
}

export function describeConnection(connection: Connection): string {
  return `${connection.identity} via ${connection.backend}`;
}

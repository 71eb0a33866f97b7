/** The outcome of an insert that is idempotent on a unique key. */
export interface Inserted<T> {
  record: T;
  /** False when the record already existed: this call was a repeat and changed nothing. */
  created: boolean;
}

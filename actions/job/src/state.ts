/** Names of the values main hands to post through GITHUB_STATE (never the token: post reads it again). */
export const STATE = {
  isPost: 'isPost',
  /** Saved as soon as the job is submitted, so post can cancel it even if main dies right after. */
  jobId: 'jobId',
  /** 'true' once main has settled the job (it ended, was left running on purpose, or was cancelled). */
  settled: 'settled',
} as const;

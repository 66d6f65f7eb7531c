/** Names of the values main hands to post through GITHUB_STATE. */
export const STATE = {
  isPost: 'isPost',
  logout: 'logout',
  registries: 'registries',
} as const;

/** A request URL's path: the URL without its query string. */
export const pathOf = (url: string | undefined): string => (url ?? '').split('?', 1)[0];

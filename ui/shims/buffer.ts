// The page's Buffer: the core uses Node's Buffer; in the browser bundle it is the `buffer` package.
export { Buffer } from 'buffer';

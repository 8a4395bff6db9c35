// Types of load-imbalance.js for the TypeScript tests that import it (the browser loads the .js).
export declare const IMBALANCE_THRESHOLD: number;
export declare function loadImbalance(counts: readonly number[]): number;

// Public entry point of rxnet/testing: the in-memory test kit.
export {};

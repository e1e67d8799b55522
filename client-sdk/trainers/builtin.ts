// Built-in models are in @fedrec/models/registry's default registry from the start; nothing
// registers here any more. client-sdk/index.ts still imports this module: drop both together.
export {};

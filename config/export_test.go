package config

// BuiltinStride exposes the built-in backend's stride to the external test
// that compares it with infer/builtin.
const BuiltinStride = builtinStride

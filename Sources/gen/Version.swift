/// The version `gen --version` prints; the one place it is set (bump it with releases).
let genVersion = "0.11.0"

import Foundation

/// Lists the keys of a JSON object's top level, duplicates included. Foundation's
/// `JSONSerialization` silently keeps one of two equal keys; safetensors forbids duplicates,
/// so the reader scans for them here. Input is JSON that `JSONSerialization` already accepted.
enum JSONKeyScanner {
    /// The top-level keys in order, or nil when the text is not an object.
    static func topLevelKeys(_ b: [UInt8]) -> [String]? {
        var keys: [String] = []
        var depth = 0
        var i = 0
        var expectKey = false
        let n = b.count
        while i < n {
            let c = b[i]
            switch c {
            case UInt8(ascii: "{"):
                depth += 1
                expectKey = depth == 1
                i += 1
            case UInt8(ascii: "["):
                depth += 1; i += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                depth -= 1; i += 1
            case UInt8(ascii: ","):
                expectKey = depth == 1
                i += 1
            case UInt8(ascii: "\""):
                // Find the closing quote, skipping escaped characters.
                var j = i + 1
                while j < n && b[j] != UInt8(ascii: "\"") { j += b[j] == UInt8(ascii: "\\") ? 2 : 1 }
                guard j < n else { return nil }
                if expectKey && depth == 1 {
                    // Decode escapes through Foundation (a JSON string fragment).
                    let literal = Data(b[i...j])
                    guard let s = try? JSONSerialization.jsonObject(with: literal, options: .fragmentsAllowed) as? String
                    else { return nil }
                    keys.append(s)
                    expectKey = false
                }
                i = j + 1
            default:
                i += 1
            }
        }
        return depth == 0 ? keys : nil
    }
}

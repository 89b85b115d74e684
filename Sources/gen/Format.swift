import Foundation

/// Formats a Double for console lines and JSON: `digits` decimals, `nan` for NaN.
func fmt(_ x: Double, _ digits: Int = 4) -> String {
    x.isNaN ? "nan" : String(format: "%.\(digits)f", x)
}

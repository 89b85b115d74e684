import Foundation

/// Formats a Double for console lines and JSON: `digits` decimals, `nan` for NaN.
func fmt(_ x: Double, _ digits: Int = 4) -> String {
    x.isNaN ? "nan" : String(format: "%.\(digits)f", x)
}

/// A loss value for a message: scientific notation when very large or small.
func sci(_ x: Double) -> String {
    abs(x) >= 1e4 || (abs(x) < 1e-3 && x != 0) ? String(format: "%.3g", x) : fmt(x, 4)
}

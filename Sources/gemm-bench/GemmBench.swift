@main struct GemmBench { static func main() {} }

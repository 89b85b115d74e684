@main struct Gen { static func main() {} }

public enum GenerativePlaceholder {}

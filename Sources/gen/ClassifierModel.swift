import Generative

/// The reference classifier now lives in the Generative library. ClassifierTraining.swift
/// (being moved to the Training target by another change) does not import Generative, so this
/// module-level alias keeps it compiling untouched; delete it once that file imports the library.
typealias MNISTClassifier = Generative.MNISTClassifier

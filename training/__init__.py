"""glare's training package: eye dataset preparation, the keypoint CNN, TFLite export."""

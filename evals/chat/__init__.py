"""The copilot chat eval: staff questions over a generated sandbox practice (`fovea eval chat`)."""

//! Scales, axes, layouts, rasterization and hit-testing of every huntglass chart.

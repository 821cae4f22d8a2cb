import type { NextConfig } from "next";

const nextConfig: NextConfig = {
  // Static export: the Python server (postwise/web.py) serves out/ and maps
  // deep links to <path>/index.html, so every route must be a folder.
  output: "export",
  trailingSlash: true,
  images: { unoptimized: true },
  reactStrictMode: true,
  poweredByHeader: false,
};

export default nextConfig;

"use client";

import dynamic from "next/dynamic";

// Lazy: the root not-found boundary is part of every route's bundle; its code (MUI Button,
// Typography) is loaded only when a 404 actually renders. It is still prerendered into 404.html.
export const LazyNotFound = dynamic(() => import("./NotFound").then((m) => m.NotFound));

// SPDX-License-Identifier: ISC
"use strict";
document.getElementById("main").textContent = "tapgate console";

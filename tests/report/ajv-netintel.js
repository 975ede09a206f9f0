// ajv-netintel.js — ajv-cli plugin (-c) for docs/report-schema.json: the
// annotation keyword "version" (the contract's version, a string).
module.exports = function (ajv) {
  ajv.addKeyword({ keyword: "version", metaSchema: { type: "string" } });
  return ajv;
};

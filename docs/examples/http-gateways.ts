import type { BackendSettings } from "rapidsms-ts";

/** SMSGlobal's HTTP API: a GET with the account in the query, a text answer with the id, receipts as GET. */
export const smsGlobal = (env = process.env): BackendSettings => ({
  engine: "http",
  sendUrl: env.SMSGLOBAL_URL ?? "https://api.smsglobal.com/http-api.php",
  sendMethod: "GET",
  sendParams: { action: "sendsms", user: env.SMSGLOBAL_USER ?? "", password: env.SMSGLOBAL_PASSWORD ?? "" },
  sendNames: { identityName: "to", textName: "text", senderName: "from" },
  sender: "61409317436",
  messageIdPattern: "SMSGlobalMsgID:(\\d+)",
  status: { idName: "msgid", statusName: "dlrstatus", detailName: "dlr_err", methods: ["get"], answer: "OK" },
  inboundToken: env.SMSGLOBAL_INBOUND_TOKEN,
});

/** Clickatell's Platform HTTP API: a GET with the API key, a JSON answer, status callbacks as JSON POSTs. */
export const clickatell = (env = process.env): BackendSettings => ({
  engine: "http",
  sendUrl: env.CLICKATELL_URL ?? "https://platform.clickatell.com/messages/http/send",
  sendMethod: "GET",
  sendParams: { apiKey: env.CLICKATELL_API_KEY ?? "" },
  sendNames: { identityName: "to", textName: "content" },
  messageIdPointer: "/messages/0/apiMessageId",
  status: {
    idName: "messageId",
    statusName: "status",
    detailName: "statusDescription",
    methods: ["post"],
    statuses: { RECEIVED_BY_RECIPIENT: "D", DELIVERED_TO_GATEWAY: "S", ROUTING_ERROR: "E", ERROR_DELIVERING: "E" },
  },
  inboundToken: env.CLICKATELL_INBOUND_TOKEN,
});

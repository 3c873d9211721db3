package main

// message is one message a citizen leaves on the platform (网络问政留言),
// and what the people who handle it will do: the scenario of the
// simulation. The rules (limits, steps, routing, what an unsatisfied
// evaluation leads to) are not here but in city.json and the definitions.
type message struct {
	ID       string
	Day      int // the working day of the simulation on which it arrives, from 0
	Kind     string
	Topic    string
	District string
	Citizen  string // the citizen's user id (the applicant)
	Name     string // as a letter addresses the citizen
	Title    string
	Content  string
	Plan     plan
}

// plan is what the department, the supervisor and the citizen do with a
// message, in working days after the step before.
type plan struct {
	// AcceptAfter is when the department signs for it (签收受理), after it
	// arrives; Refuse, if set, refuses it instead (不予受理), with this reason.
	AcceptAfter int
	Refuse      string
	// AnswerAfter is when the department answers, after accepting it, per
	// round (a reopened message is a new round); 3 when not given.
	AnswerAfter []int
	// Replies are the answers, per round.
	Replies []string
	// Extension, if set, is the department's request for more time in the
	// first round.
	Extension *extensionPlan
	// Satisfied is the citizen's evaluation, per round; satisfied when not
	// given.
	Satisfied []bool
}

// extensionPlan is a request for more time (延期申请).
type extensionPlan struct {
	After  int    // working days after acceptance
	Length string // such as 5wd
	Reason string
	Grant  bool   // whether the supervisor approves
	Answer string // the supervisor's reason (required for a refusal)
}

// scenario is the simulation's messages. Working day 0 is Monday
// 2026-04-20; the 劳动节 holiday (2026-05-01 to 05-05) falls inside, and
// Saturday 2026-05-09 is a working day (调休), as the State Council's notice
// embedded in package deadline says.
var scenario = []message{
	{ID: "WZ-0001", Day: 0, Kind: "complaint", Topic: "食品安全", District: "渝中区", Citizen: "citizen-0001", Name: "王某",
		Title: "解放碑某餐馆后厨卫生状况差", Content: "4月18日在解放碑某餐馆就餐后腹泻，后厨卫生状况差，请求查处。",
		Plan: plan{AnswerAfter: []int{4}, Replies: []string{"执法人员已于4月22日对该餐馆进行现场检查，责令其限期整改后厨卫生问题，并依法立案调查。"}}},
	{ID: "WZ-0002", Day: 0, Kind: "complaint", Topic: "物业管理", District: "江北区", Citizen: "citizen-0002", Name: "李某",
		Title: "小区电梯长期故障物业不维修", Content: "观音桥某小区3栋电梯停运一个月，物业公司以维修资金未到位为由拖延。",
		Plan: plan{AcceptAfter: 3, AnswerAfter: []int{12}, Replies: []string{"经协调，物业公司已申请使用专项维修资金，电梯已于5月中旬修复并通过检验。"}}},
	{ID: "WZ-0003", Day: 1, Kind: "report", Topic: "噪声扰民", District: "渝中区", Citizen: "citizen-0003", Name: "张某",
		Title: "夜间施工噪声扰民", Content: "大坪某工地连续两周夜间22时后施工，噪声严重影响休息。",
		Plan: plan{AcceptAfter: 1, AnswerAfter: []int{22}, Replies: []string{"经查，该工地未取得夜间施工许可，已依法责令停止夜间施工并立案处罚。"}}},
	{ID: "WZ-0004", Day: 1, Kind: "enquiry", Topic: "办事指南", District: "渝中区", Citizen: "citizen-0004", Name: "刘某",
		Title: "居住证办理需要哪些材料", Content: "外地户籍来渝工作，想了解居住证的办理材料和地点。",
		Plan: plan{AnswerAfter: []int{1}, Replies: []string{"办理居住证需提供居民身份证、居住地住址证明等材料，可就近到居住地派出所或通过线上平台申请。"}}},
	{ID: "WZ-0005", Day: 2, Kind: "complaint", Topic: "拖欠工资", District: "江北区", Citizen: "citizen-0005", Name: "陈某",
		Title: "建筑公司拖欠农民工工资", Content: "在江北区某项目务工三个月，公司拖欠工资共计两万余元。",
		Plan: plan{AnswerAfter: []int{13}, Extension: &extensionPlan{After: 6, Length: "5wd", Reason: "涉及总包和分包单位，需会同住建部门核实用工台账", Grant: true, Answer: "同意延期5个工作日"},
			Replies: []string{"经劳动保障监察立案调查，总包单位已代为支付所欠工资，共计21600元。"}}},
	{ID: "WZ-0006", Day: 2, Kind: "suggestion", Topic: "城市建设", District: "渝中区", Citizen: "citizen-0006", Name: "赵某",
		Title: "建议在较场口增设过街天桥", Content: "较场口路口人流量大，行人过街不便，建议增设过街天桥或地下通道。",
		Plan: plan{AnswerAfter: []int{17}, Extension: &extensionPlan{After: 12, Length: "10wd", Reason: "需征求交通、规划部门意见", Grant: false, Answer: "建议类事项已有充足办理时间，不同意延期"},
			Replies: []string{"您的建议已转交规划部门，纳入较场口片区交通组织优化方案统筹研究。"}}},
	{ID: "WZ-0007", Day: 3, Kind: "evaluation", Topic: "营商环境", District: "渝中区", Citizen: "citizen-0007", Name: "孙某",
		Title: "营业执照变更窗口服务差评", Content: "办理营业执照变更时窗口人员态度生硬，一次性告知不到位，往返三次。",
		Plan: plan{AnswerAfter: []int{2, 2}, Satisfied: []bool{false, true},
			Replies: []string{"已对窗口工作人员进行批评教育。", "已约谈窗口负责人，修订一次性告知清单并在窗口公示，您的变更已安排专人全程帮办。"}}},
	{ID: "WZ-0008", Day: 3, Kind: "complaint", Topic: "消费维权", District: "江北区", Citizen: "citizen-0008", Name: "周某",
		Title: "健身房关店拒不退费", Content: "观音桥某健身房突然停业，预付的年卡费用3600元无法退还。",
		Plan: plan{AnswerAfter: []int{3, 4}, Satisfied: []bool{false, false},
			Replies: []string{"已联系经营者，其表示将于近期恢复营业。", "经营者已失联，已将线索移送公安机关，并指导您通过诉讼途径维权。"}}},
	{ID: "WZ-0009", Day: 4, Kind: "report", Topic: "食品安全", District: "江北区", Citizen: "citizen-0009", Name: "吴某",
		Title: "举报某超市销售过期食品", Content: "江北城某超市销售过期牛奶，已向法院起诉，要求市场监管部门出具处理意见。",
		Plan: plan{Refuse: "所反映事项已进入诉讼程序，依法不予受理，请依法通过诉讼途径解决"}},
	{ID: "WZ-0010", Day: 4, Kind: "enquiry", Topic: "社会保险", District: "江北区", Citizen: "citizen-0010", Name: "郑某",
		Title: "灵活就业人员如何参加养老保险", Content: "自由职业者，想了解以灵活就业人员身份参加职工养老保险的办法。",
		Plan: plan{AnswerAfter: []int{2}, Replies: []string{"灵活就业人员可凭身份证到户籍地或居住地社保经办机构登记参保，也可通过重庆人社网上办事大厅办理。"}}},
	{ID: "WZ-0011", Day: 5, Kind: "suggestion", Topic: "环境污染", District: "江北区", Citizen: "citizen-0011", Name: "冯某",
		Title: "建议加强嘉陵江沿岸垃圾清理", Content: "嘉陵江江北段沿岸时有垃圾堆积，建议增加清理频次并设置监控。",
		Plan: plan{AnswerAfter: []int{8}, Satisfied: []bool{false},
			Replies: []string{"已会同属地街道开展沿岸环境整治，并将垃圾清理频次纳入河长制考核。"}}},
	{ID: "WZ-0012", Day: 7, Kind: "complaint", Topic: "食品安全", District: "渝中区", Citizen: "citizen-0012", Name: "褚某",
		Title: "外卖平台商家无证经营", Content: "某外卖平台上一家商家无实体店面、无营业执照，却在平台销售熟食。",
		Plan: plan{AnswerAfter: []int{8}, Replies: []string{"经核查，该商家确无食品经营许可证，已责令平台下架并对商家立案查处。"}}},
}
